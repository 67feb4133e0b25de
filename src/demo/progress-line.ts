import { formatInt } from '../cli/format.js';

/**
 * One line of progress for the append phase: redrawn in place on a terminal, and printed at every
 * quarter otherwise, so a log of `npm run demo` stays short.
 */
export class ProgressLine {
  private nextQuarter = 1;
  private lastDraw = 0;
  private readonly started = performance.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number,
    private readonly label: string,
  ) {}

  update(done: number): void {
    const now = performance.now();
    const text = (): string => {
      const rate = done / Math.max((now - this.started) / 1000, 1e-9);
      const percent = ((100 * done) / this.total).toFixed(0).padStart(3);
      return `  ${this.label} ${formatInt(done).padStart(formatInt(this.total).length)} / ${formatInt(this.total)}  ${percent}%  ${formatInt(rate)} events/s`;
    };
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 80 && done < this.total) return;
      this.lastDraw = now;
      this.stream.write(`\r${text()}\x1b[K`);
      return;
    }
    while (done >= (this.nextQuarter * this.total) / 4 && this.nextQuarter <= 4) {
      this.stream.write(`${text()}\n`);
      this.nextQuarter++;
    }
  }

  /** Clears the in-place line so the report continues on a clean line. */
  done(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
  }
}
