/**
 * UTC calendar helpers. All date arithmetic is in UTC whatever the process's TZ (Perl's
 * tool sets TZ=UTC at start-up; we never consult the local zone).
 */

export interface CalendarTime {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
  hour: number;
  minute: number;
  second: number;
}

/** gmtime(3) for seconds since the epoch. */
export function gmtime(seconds: number): CalendarTime {
  const d = new Date(seconds * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** timegm(3), normalizing out-of-range fields the way mktime does (Feb 30 is Mar 2). */
export function timegm(t: CalendarTime): number {
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, 0);
  return Math.floor(d.getTime() / 1000);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** strftime('%Y-%m-%d', gmtime(seconds)). */
export function formatDate(seconds: number): string {
  const t = gmtime(seconds);
  return `${t.year}-${pad2(t.month)}-${pad2(t.day)}`;
}

/** strftime('%Y-%m-%d %H:%M', gmtime(seconds)). */
export function formatDateHourMinute(seconds: number): string {
  const t = gmtime(seconds);
  return `${formatDate(seconds)} ${pad2(t.hour)}:${pad2(t.minute)}`;
}

/** strftime('%Y-%m-%dT%H:%M:%S', gmtime(seconds)). */
export function formatIsoSeconds(seconds: number): string {
  const t = gmtime(seconds);
  return `${formatDate(seconds)}T${pad2(t.hour)}:${pad2(t.minute)}:${pad2(t.second)}`;
}

/** The GNU-style rule shared by gzip, bFLT and uImage header times: 0 stays 0 ("no
 *  timestamp"); otherwise T (or, with clamp, T only if the old value is later); with T unset,
 *  0. */
export function headerTime(old: number, timestamp: number | undefined, clamp: boolean): number {
  if (old === 0) return 0;
  if (timestamp === undefined) return 0;
  if (!clamp || old > timestamp) return timestamp;
  return old;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Perl's scalar gmtime(): "Thu Feb  5 18:09:31 2015". */
export function formatCtime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const t = gmtime(seconds);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[t.month - 1]} ${String(t.day).padStart(2, ' ')} ${pad2(t.hour)}:${pad2(t.minute)}:${pad2(t.second)} ${t.year}`;
}
