/**
 * A one-line progress bar on stderr, redrawn at most ten times a second (terminals only): files
 * done of the total, files per second, and the time left at that rate. Hand-written: it is
 * twenty lines, and the bar libraries on npm bring dependencies and start-up cost for the same.
 */
export class Progress {
  private count = 0;
  private last = 0;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly write: (s: string) => void,
  ) {}

  tick(): void {
    this.count++;
    const now = Date.now();
    if (now - this.last < 100 && this.count < this.total) return;
    this.last = now;
    this.write(`\r${this.line(now)}\x1b[K`);
  }

  /** `[####      ] 120/300  48.0 files/s  4 s left` */
  line(now: number): string {
    const width = 30;
    const filled = this.total ? Math.round((width * this.count) / this.total) : width;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.count / seconds;
    const left = rate > 0 ? Math.ceil((this.total - this.count) / rate) : 0;
    return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${this.count}/${this.total}  ${rate.toFixed(1)} files/s  ${formatDuration(left)} left`;
  }

  done(): void {
    this.write('\r\x1b[K');
  }
}

/** 42 s, 3 min 05 s, 1 h 02 min. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} min`;
}
