/** A progress line on stderr (count, rate, ETA), redrawn at most twice a second. */
export class Progress {
  private readonly start = performance.now();
  private last = 0;
  private readonly tty: boolean;

  /** `initial`: units already done when this run started (a resumed job): not counted in the rate. */
  constructor(
    readonly label: string,
    readonly total: number,
    readonly unit: string,
    readonly initial = 0,
  ) {
    this.tty = Deno.stderr.isTerminal();
  }

  update(done: number, extra = "", force = false): void {
    const now = performance.now();
    if (!force && now - this.last < 500) return;
    this.last = now;
    const sec = (now - this.start) / 1000;
    const rate = (done - this.initial) / Math.max(sec, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const pct = this.total ? ((100 * done) / this.total).toFixed(1) : "100";
    const line =
      `${this.label}: ${done}/${this.total} ${this.unit} (${pct}%), ${
        rate.toFixed(1)
      } ${this.unit}/s, ` +
      `ETA ${formatDuration(eta)}${extra ? `, ${extra}` : ""}`;
    const enc = new TextEncoder();
    Deno.stderr.writeSync(enc.encode(this.tty ? `\r\x1b[K${line}` : `${line}\n`));
  }

  finish(done: number, extra = ""): void {
    this.update(done, extra, true);
    if (this.tty) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  }

  get elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return "?";
  if (sec < 60) return `${sec.toFixed(0)}s`;
  if (sec < 3600) {
    return `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, "0")}s`;
  }
  return `${Math.floor(sec / 3600)}h${String(Math.round((sec % 3600) / 60)).padStart(2, "0")}m`;
}
