/**
 * Progress of a long CLI operation on stderr, so stdout stays the command's output:
 * - a terminal gets one bar redrawn in place (carriage return), with the count, rate and ETA;
 * - a pipe or file gets plain lines, at most one per second, and a last one when the work ends;
 * - `--json` (and small operations) get nothing.
 */
export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressSink {
  write(text: string): void;
}

export interface ProgressOptions {
  /** What is being done ("produce", "consume"), printed first. */
  label: string;
  /** What is counted; bytes are shown as kB, MB and GB. */
  unit: 'records' | 'bytes';
  /** The expected count; without it there is no percentage or ETA. */
  total?: number;
  mode: ProgressMode;
  sink?: ProgressSink;
  /** Terminal width for the bar. */
  columns?: number;
  now?: () => number;
  /** Print nothing at all unless the work outlasts the first redraw interval (a quick pipe from stdin stays quiet). */
  onlyIfSlow?: boolean;
}

const BAR_REDRAW_MS = 100;
const LINE_INTERVAL_MS = 1_000;
const BAR_WIDTH = 20;

/** Where progress goes for a command: nothing with --json, else a bar on a terminal and lines on a pipe. */
export function progressMode(json: boolean | undefined, stderrIsTty: boolean | undefined = process.stderr.isTTY): ProgressMode {
  if (json === true) return 'off';
  return stderrIsTty === true ? 'bar' : 'lines';
}

const count = (n: number): string => Math.round(n).toLocaleString('en');

function bytes(n: number): string {
  if (n < 1_000) return `${Math.round(n)} B`;
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1)} kB`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(1)} MB`;
  return `${(n / 1_000_000_000).toFixed(2)} GB`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly sink: ProgressSink;
  private readonly now: () => number;
  private readonly startMs: number;
  private lastDrawMs = Number.NEGATIVE_INFINITY;
  private done = 0;
  private finished = false;
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {
    this.sink = options.sink ?? { write: (text) => process.stderr.write(text) };
    this.now = options.now ?? (() => performance.now());
    this.startMs = this.now();
  }

  /** Records that `done` units are complete; draws when due. */
  update(done: number): void {
    this.done = done;
    if (this.options.mode === 'off' || this.finished) return;
    const nowMs = this.now();
    const interval = this.options.mode === 'bar' ? BAR_REDRAW_MS : LINE_INTERVAL_MS;
    if (nowMs - this.lastDrawMs < interval) return;
    // The first line of a pipe waits a second: quick operations print only their last line.
    if (this.options.mode === 'lines' && nowMs - this.startMs < LINE_INTERVAL_MS) return;
    this.lastDrawMs = nowMs;
    this.draw(nowMs);
  }

  /** Draws the final state (a last line; the bar completed and its line ended). */
  finish(done = this.done): void {
    if (this.finished) return;
    this.done = done;
    this.finished = true;
    if (this.options.mode === 'off' || (this.options.onlyIfSlow === true && !this.drawn)) return;
    this.draw(this.now());
    if (this.options.mode === 'bar') this.sink.write('\n');
  }

  /** Ends the bar's line without a final draw, so an error message starts on a line of its own. */
  abandon(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.options.mode === 'bar' && this.drawn) this.sink.write('\n');
  }

  private draw(nowMs: number): void {
    this.drawn = true;
    const { total, unit, label } = this.options;
    const elapsedS = Math.max(nowMs - this.startMs, 1) / 1_000;
    const rate = this.done / elapsedS;
    const fraction = total === undefined || total === 0 ? undefined : Math.min(1, this.done / total);
    const eta = fraction === undefined || rate === 0 ? undefined : (total! - this.done) / rate;
    const tail = `${unit === 'bytes' ? `${bytes(rate)}/s` : `${count(rate)} ${unit}/s`}${this.finished ? `, ${duration(elapsedS)}` : eta === undefined ? '' : `, ETA ${duration(eta)}`}`;
    const show = unit === 'bytes' ? bytes : count;
    const amount = `${total === undefined ? show(this.done) : `${show(this.done)}/${show(total)}`}${unit === 'bytes' ? '' : ` ${unit}`}`;
    if (this.options.mode === 'lines') {
      this.sink.write(`${label}: ${amount}${fraction === undefined ? '' : ` (${Math.floor(fraction * 100)}%)`}, ${tail}\n`);
      return;
    }
    const bar =
      fraction === undefined
        ? ''
        : `[${'#'.repeat(Math.round(fraction * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${String(Math.floor(fraction * 100)).padStart(3)}% `;
    const line = `${label} ${bar}${amount}  ${tail}`;
    const columns = this.options.columns ?? (process.stderr.columns || 80);
    // Carriage return, the line cut to the terminal's width, then clear to its end.
    this.sink.write(`\r${line.slice(0, Math.max(columns - 1, 20))}\x1b[K`);
  }
}
