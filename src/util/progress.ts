/**
 * A progress line on stderr (count, rate, ETA). On a terminal it is redrawn in place at most twice
 * a second; otherwise (a log file, a pipe) a new line is written at most every 5 seconds. Messages
 * printed with `note` while a line is drawn appear above it, and the line is drawn again below.
 */
const TTY_INTERVAL_MS = 500;
const LOG_INTERVAL_MS = 5000;

const encoder = new TextEncoder();
/** The line last drawn in place on a terminal, until finish(); null when none is showing. */
let drawn: string | null = null;

function isTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/** Prints `msg` on stderr as its own line, above a progress line being redrawn on a terminal. */
export function note(msg: string): void {
  if (drawn !== null) {
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${msg}\n${drawn}`));
  } else {
    console.error(msg);
  }
}

export class Progress {
  private readonly start = performance.now();
  private last = -Infinity;
  private readonly tty: boolean;

  /** `initial`: units already done when this run started (a resumed job): not counted in the rate. */
  constructor(
    readonly label: string,
    readonly total: number,
    readonly unit: string,
    readonly initial = 0,
  ) {
    this.tty = isTerminal();
  }

  update(done: number, extra = "", force = false): void {
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS)) return;
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
    if (this.tty) {
      drawn = line;
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${line}`));
    } else {
      Deno.stderr.writeSync(encoder.encode(`${line}\n`));
    }
  }

  finish(done: number, extra = ""): void {
    this.update(done, extra, true);
    if (this.tty) {
      drawn = null;
      Deno.stderr.writeSync(encoder.encode("\n"));
    }
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
