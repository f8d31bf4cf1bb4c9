/**
 * Where long-polling fetches wait. A parked fetch is woken by the first high-watermark advance on
 * any partition it reads, by its deadline, by its abort signal or by broker shutdown, whichever
 * comes first. The number parked at once is bounded; past the bound fetches answer immediately.
 */
export type WakeReason = 'data' | 'timeout' | 'aborted' | 'closing';

export interface HighWatermarkSource {
  readonly highWatermark: number;
  onHighWatermark(listener: (highWatermark: number) => void): () => void;
}

export class FetchParking {
  private parked = 0;
  private readonly closers = new Set<() => void>();
  private closing = false;

  constructor(private readonly maxParked: number) {}

  get parkedCount(): number {
    return this.parked;
  }

  canPark(): boolean {
    return !this.closing && this.parked < this.maxParked;
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
    return new Promise<WakeReason>((resolve) => {
      const unsubscribers: (() => void)[] = [];
      let done = false;
      const finish = (reason: WakeReason): void => {
        if (done) return;
        done = true;
        this.parked--;
        clearTimeout(timer);
        for (const unsubscribe of unsubscribers) unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        this.closers.delete(onClose);
        resolve(reason);
      };
      const onAbort = (): void => finish('aborted');
      const onClose = (): void => finish('closing');
      this.parked++;
      const timer = setTimeout(() => finish('timeout'), waitMs);
      for (const source of sources) unsubscribers.push(source.onHighWatermark(() => finish('data')));
      signal?.addEventListener('abort', onAbort);
      this.closers.add(onClose);
    });
  }

  /** Releases every parked fetch; later parks answer at once. */
  close(): void {
    this.closing = true;
    for (const close of [...this.closers]) close();
  }
}
