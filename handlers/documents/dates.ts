/**
 * Dates in generated documents: recognize how a date was written, and write T the same way.
 * Only the whole text of a field a generator signature pointed at is matched (handlers/html.ts,
 * handlers/xml.ts), never free text: there is no "any date" search.
 *
 * Formats (T is always written in UTC; a zone in the sample becomes UTC's spelling of it):
 *   2026-11-22 | 2026-11-22T04:41:16[.fff][Z|+hh:mm|+hhmm] (T or blank between)
 *   November 22, 2026 | Nov 22, 2026 | 22 November 2026 | 22 Nov 2026  (day padded as the sample)
 *   Sun Nov 22 2026 04:41:16                       doxygen
 *   Sun Nov 22 04:41:16 2026 / Sun Nov  2 ...       ctime, asctime (epydoc)
 *   Sun Nov 22 04:41:16 UTC 2026                    date(1)
 *   Sun Nov 22 2026 04:41:16 GMT-0500 (Zone Name)   JavaScript Date#toString (JSDoc)
 *   Sun, 22 Nov 2026 04:41:16 +0000                 RFC 2822
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MON = MONTHS.map((m) => m.slice(0, 3));
const MONTH_RE = `(${MONTHS.join('|')}|${MON.join('|')})`;
const WD = `(?:${DAYS.join('|')})`;
const MN = `(?:${MON.join('|')})`;

const p2 = (n: number) => String(n).padStart(2, '0');

interface Parts {
  y: number;
  mo: number; // 0-11
  d: number;
  h: number;
  mi: number;
  s: number;
  wd: number;
}

function parts(t: number): Parts {
  const x = new Date(t * 1000);
  return { y: x.getUTCFullYear(), mo: x.getUTCMonth(), d: x.getUTCDate(), h: x.getUTCHours(), mi: x.getUTCMinutes(), s: x.getUTCSeconds(), wd: x.getUTCDay() };
}

const time = (p: Parts) => `${p2(p.h)}:${p2(p.mi)}:${p2(p.s)}`;
/** How a day of the month below 10 is written: `05`, ` 5` or `5`. */
export type DayPad = 'zero' | 'space' | 'none';

/** The day as the sample wrote it; a two-digit sample day (10-31) cannot tell, so the caller's
 *  hint for the generator, or else the format's own habit, decides. */
const day = (p: Parts, sample: string, hint: DayPad | undefined, habit: DayPad = 'none') => {
  const pad: DayPad = sample.length === 1 ? 'none' : sample[0] === '0' ? 'zero' : sample[0] === ' ' ? 'space' : (hint ?? habit);
  return pad === 'zero' ? p2(p.d) : pad === 'space' ? String(p.d).padStart(2, ' ') : String(p.d);
};

interface Format {
  re: RegExp;
  render(p: Parts, m: RegExpExecArray, hint: DayPad | undefined): string;
}

const FORMATS: Format[] = [
  { re: /^(\d{4})-(\d{2})-(\d{2})$/, render: (p) => `${p.y}-${p2(p.mo + 1)}-${p2(p.d)}` },
  {
    re: /^(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/,
    render: (p, m) => {
      const fraction = m[8] ? `.${'0'.repeat(m[8].length - 1)}` : '';
      const zone = m[9] === undefined ? '' : m[9] === 'Z' ? 'Z' : m[9].includes(':') ? '+00:00' : '+0000';
      return `${p.y}-${p2(p.mo + 1)}-${p2(p.d)}${m[4]}${time(p)}${fraction}${zone}`;
    },
  },
  {
    re: new RegExp(`^${MONTH_RE} (\\d{1,2}), (\\d{4})$`),
    render: (p, m, h) => `${m[1].length > 3 ? MONTHS[p.mo] : MON[p.mo]} ${day(p, m[2], h)}, ${p.y}`,
  },
  {
    re: new RegExp(`^(\\d{1,2}) ${MONTH_RE} (\\d{4})$`),
    render: (p, m, h) => `${day(p, m[1], h)} ${m[2].length > 3 ? MONTHS[p.mo] : MON[p.mo]} ${p.y}`,
  },
  { re: new RegExp(`^${WD} ${MN} ( ?\\d{1,2}) \\d{4} \\d{2}:\\d{2}:\\d{2}$`), render: (p, m, h) => `${DAYS[p.wd]} ${MON[p.mo]} ${day(p, m[1], h)} ${p.y} ${time(p)}` },
  { re: new RegExp(`^${WD} ${MN} ( ?\\d{1,2}) \\d{2}:\\d{2}:\\d{2} \\d{4}$`), render: (p, m, h) => `${DAYS[p.wd]} ${MON[p.mo]} ${day(p, m[1], h, 'space')} ${time(p)} ${p.y}` },
  { re: new RegExp(`^${WD} ${MN} ( ?\\d{1,2}) \\d{2}:\\d{2}:\\d{2} [A-Z]{2,5} \\d{4}$`), render: (p, m, h) => `${DAYS[p.wd]} ${MON[p.mo]} ${day(p, m[1], h, 'space')} ${time(p)} UTC ${p.y}` },
  {
    re: new RegExp(`^${WD} ${MN} (\\d{2}) \\d{4} \\d{2}:\\d{2}:\\d{2} GMT[+-]\\d{4}( \\([^)]*\\))?$`),
    render: (p, m) => `${DAYS[p.wd]} ${MON[p.mo]} ${p2(p.d)} ${p.y} ${time(p)} GMT+0000${m[2] ? ' (Coordinated Universal Time)' : ''}`,
  },
  { re: new RegExp(`^${WD}, (\\d{1,2}) ${MN} \\d{4} \\d{2}:\\d{2}:\\d{2} ([+-]\\d{4}|GMT|UTC)$`), render: (p, m, h) => `${DAYS[p.wd]}, ${day(p, m[1], h)} ${MON[p.mo]} ${p.y} ${time(p)} ${m[2].startsWith('+') || m[2].startsWith('-') ? '+0000' : m[2]}` },
];

/** T written the way `sample` is written, or undefined when the format is not one of ours.
 *  `dayPad`: how the generator writes days below 10, when the sample cannot show it. */
export function formatLike(sample: string, t: number, dayPad?: DayPad): string | undefined {
  for (const f of FORMATS) {
    const m = f.re.exec(sample);
    if (m) return f.render(parts(t), m, dayPad);
  }
  return undefined;
}
