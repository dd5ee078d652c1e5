/** A one-line progress bar on stderr, redrawn at most ten times a second (terminals only). */
export class Progress {
  private count = 0;
  private last = 0;
  constructor(
    private readonly total: number,
    private readonly write: (s: string) => void,
  ) {}

  tick(): void {
    this.count++;
    const now = Date.now();
    if (now - this.last < 100 && this.count < this.total) return;
    this.last = now;
    const width = 30;
    const filled = this.total ? Math.round((width * this.count) / this.total) : width;
    this.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${this.count}/${this.total}`);
  }

  done(): void {
    this.write('\r\x1b[K');
  }
}
