/**
 * A one-line progress bar on stderr for long runs on a TTY: bytes read, packets/s and ETA.
 * Shown only after the first second, so quick runs print nothing. Wall-clock time is used here
 * only, in the CLI, for display; it never reaches the analysis.
 */
import type { WriteStream } from 'node:tty';

export class ProgressBar {
  private readonly startMs = performance.now();
  private lastDrawMs = 0;
  private drawn = false;

  constructor(
    private readonly out: WriteStream | NodeJS.WriteStream,
    private readonly totalBytes: number | undefined,
  ) {}

  update(bytes: number, packets: number): void {
    const now = performance.now();
    const elapsed = (now - this.startMs) / 1000;
    if (elapsed < 1 || now - this.lastDrawMs < 200) return;
    this.lastDrawMs = now;
    const rate = packets / elapsed;
    let line = `  ${(bytes / 1e6).toFixed(0)} MB read, ${packets.toLocaleString('en-US')} packets, ${(rate / 1e6).toFixed(2)} M packets/s`;
    if (this.totalBytes !== undefined && this.totalBytes > 0 && bytes > 0) {
      const fraction = Math.min(1, bytes / this.totalBytes);
      const width = 24;
      const filled = Math.round(fraction * width);
      const eta = (elapsed / fraction) * (1 - fraction);
      line = `  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}%${line.slice(1)}, ETA ${eta.toFixed(0)} s`;
    }
    this.out.write(`\r${line}\u001b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.out.write('\r\u001b[K');
  }
}
