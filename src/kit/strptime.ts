/**
 * Perl Time::Piece->strptime($value, "%Y-%m-%d %H:%M%z"), reproduced quirk for quirk
 * because gettext parity depends on which header dates it accepts. Time::Piece uses a
 * FreeBSD-derived parser:
 *  - input that ends early is accepted (missing fields keep 1970-01-01 00:00 defaults);
 *  - a space in the format matches zero or more blanks in the input;
 *  - after a numeric field, a blank in the input skips the rest of that format word;
 *  - %z needs a sign and exactly four digits, and shifts hour and minute;
 *  - trailing garbage is only a warning, so it is accepted;
 *  - out-of-range days are normalized (Feb 30 is Mar 2; but January 0 is January 1).
 * Returns seconds since the epoch, or undefined where Perl's strptime dies.
 */
import { timegm } from './time.js';

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
// C isspace() in the C locale.
const isSpace = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c);

export function strptimeYmdHMz(input: string): number | undefined {
  const fmt = '%Y-%m-%d %H:%M%z';
  const tm = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  let b = 0;
  let p = 0;
  const at = (i: number) => (i < input.length ? input[i] : undefined);
  const number = (maxLen: number): number => {
    let v = 0;
    for (let len = maxLen; len > 0 && isDigit(at(b)); len--, b++) v = v * 10 + (input.charCodeAt(b) - 48);
    return v;
  };
  // After a numeric field: a blank in the input skips format characters up to a blank.
  const skipFormatWord = () => {
    if (at(b) !== undefined && isSpace(at(b))) while (p < fmt.length && !isSpace(fmt[p])) p++;
  };

  while (p < fmt.length) {
    if (at(b) === undefined) break;
    const c = fmt[p++];
    if (c !== '%') {
      if (isSpace(c)) {
        while (isSpace(at(b))) b++;
      } else if (c !== input[b++]) {
        return undefined;
      }
      continue;
    }
    const conv = fmt[p++];
    switch (conv) {
      case 'Y': {
        if (isSpace(at(b))) break;
        if (!isDigit(at(b))) return undefined;
        const y = number(4);
        if (y - 1900 < 0) return undefined;
        tm.year = y;
        skipFormatWord();
        break;
      }
      case 'm': {
        if (!isDigit(at(b))) return undefined;
        const m = number(2);
        if (m < 1 || m > 12) return undefined;
        tm.month = m;
        skipFormatWord();
        break;
      }
      case 'd': {
        if (!isDigit(at(b))) return undefined;
        const d = number(2);
        if (d > 31) return undefined;
        tm.day = d;
        skipFormatWord();
        break;
      }
      case 'H': {
        if (!isDigit(at(b))) return undefined;
        const h = number(2);
        if (h > 23) return undefined;
        tm.hour = h;
        skipFormatWord();
        break;
      }
      case 'M': {
        if (isSpace(at(b))) break;
        if (!isDigit(at(b))) return undefined;
        const m = number(2);
        if (m > 59) return undefined;
        tm.minute = m;
        skipFormatWord();
        break;
      }
      case 'z': {
        const sign = at(b) === '+' ? 1 : at(b) === '-' ? -1 : 0;
        if (!sign) return undefined;
        b++;
        let v = 0;
        for (let len = 4; len > 0; len--, b++) {
          if (!isDigit(at(b))) return undefined;
          v = v * 10 + (input.charCodeAt(b) - 48);
        }
        tm.hour -= sign * Math.floor(v / 100);
        tm.minute -= sign * (v % 100);
        break;
      }
    }
  }
  // Perl's mini_mktime, which Time::Piece uses to normalize, turns January 0 into January 1
  // (any other day 0 is the last day of the previous month, as timegm has it).
  if (tm.month === 1 && tm.day === 0) tm.day = 1;
  return timegm(tm);
}
