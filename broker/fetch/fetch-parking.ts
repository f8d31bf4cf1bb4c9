import { SwapRemoveList } from '../swap-remove-list.ts';

/**
 * Where long-polling fetches wait. A parked fetch is woken by the first high-watermark advance on
 * any partition it reads, by its deadline, by its abort signal or by broker shutdown, whichever
 * comes first. The number parked at once is bounded; past the bound fetches answer immediately.
 *
 * A consumer at the tail parks once per fetch, thousands of times a second, so parking allocates
 * little: one timer serves every deadline, one abort listener serves each signal (a connection's),
 * and entries live in a SwapRemoveList.
 */
export type WakeReason = 'data' | 'timeout' | 'aborted' | 'closing';

export interface HighWatermarkSource {
  readonly highWatermark: number;
  onHighWatermark(listener: (highWatermark: number) => void): () => void;
}

/** Timers overflow past 2^31-1 ms (and then fire at once); NaN would leave an entry with no deadline. */
const MAX_WAIT_MS = 2 ** 31 - 1;

function boundedWaitMs(waitMs: number): number {
  return Number.isNaN(waitMs) ? 0 : Math.min(Math.max(0, waitMs), MAX_WAIT_MS);
}

interface Parked {
  readonly deadlineMs: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (reason: WakeReason) => void;
  readonly unsubscribers: (() => void)[];
  /** Position in `entries`, -1 once finished. */
  index: number;
}

export class FetchParking {
  private readonly entries = new SwapRemoveList<Parked>();
  private readonly hookedSignals = new WeakSet<AbortSignal>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When `timer` fires (performance.now() ms), Infinity when unarmed. */
  private timerDueMs = Infinity;
  private closing = false;

  constructor(private readonly maxParked: number) {}

  get parkedCount(): number {
    return this.entries.length;
  }

  canPark(): boolean {
    return !this.closing && this.entries.length < this.maxParked;
  }

  /**
   * Waits until one of `sources` moves past the high watermark seen when the data was read
   * (`seenHighWatermarks[i]`), so an append landing between the read and this call still wakes it.
   */
  park(
    sources: readonly HighWatermarkSource[],
    seenHighWatermarks: readonly number[],
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<WakeReason> {
    for (let i = 0; i < sources.length; i++) {
      if (sources[i]!.highWatermark !== seenHighWatermarks[i]) return Promise.resolve('data');
    }
    if (signal?.aborted) return Promise.resolve('aborted');
    if (!this.canPark()) return Promise.resolve(this.closing ? 'closing' : 'timeout');
    if (signal !== undefined && !this.hookedSignals.has(signal)) {
      this.hookedSignals.add(signal);
      signal.addEventListener('abort', () => this.finishWhere((entry) => entry.signal === signal, 'aborted'), { once: true });
    }
    return new Promise<WakeReason>((resolve) => {
      const entry: Parked = { deadlineMs: performance.now() + boundedWaitMs(waitMs), signal, resolve, unsubscribers: [], index: -1 };
      this.entries.add(entry);
      const wake = (): void => this.finish(entry, 'data');
      for (const source of sources) entry.unsubscribers.push(source.onHighWatermark(wake));
      if (entry.deadlineMs < this.timerDueMs) this.arm(entry.deadlineMs);
    });
  }

  /** Releases every parked fetch; later parks answer at once. */
  close(): void {
    this.closing = true;
    this.finishWhere(() => true, 'closing');
  }

  private finish(entry: Parked, reason: WakeReason): void {
    if (!this.entries.remove(entry)) return;
    for (const unsubscribe of entry.unsubscribers) unsubscribe();
    if (this.entries.length === 0) this.disarm();
    entry.resolve(reason);
  }

  private finishWhere(matches: (entry: Parked) => boolean, reason: WakeReason): void {
    for (const entry of this.entries.items.filter(matches)) this.finish(entry, reason);
  }

  private arm(dueMs: number): void {
    this.disarm();
    this.timerDueMs = dueMs;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, dueMs - performance.now()));
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueMs = Infinity;
  }

  /** Times out every entry past its deadline, then re-arms for the earliest one left. */
  private onTimer(): void {
    this.timer = undefined;
    this.timerDueMs = Infinity;
    const now = performance.now();
    this.finishWhere((entry) => entry.deadlineMs <= now, 'timeout');
    let next = Infinity;
    for (const entry of this.entries.items) next = Math.min(next, entry.deadlineMs);
    if (next < Infinity) this.arm(next);
  }
}
