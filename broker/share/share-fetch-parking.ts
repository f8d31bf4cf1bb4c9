import type { ShareLogHost } from './share-log-host.ts';

interface Parked {
  readonly wake: () => void;
}

/**
 * Where ShareFetch requests with nothing to acquire wait, by group: woken by a high-watermark
 * advance on a partition of their session, by a change in their group's share partitions (a
 * release, an acknowledgement, an expired lock), by their deadline, their connection closing or the
 * broker shutting down. At most `maxParked` wait at once; past it a fetch answers at once.
 */
export class ShareFetchParking {
  private readonly parked = new Map<string, Set<Parked>>();
  private count = 0;

  constructor(
    private readonly maxParked: number,
    private readonly host: Pick<ShareLogHost, 'onHighWatermark'>,
  ) {}

  park(groupId: string, sources: readonly { topic: string; partition: number }[], waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.count >= this.maxParked || signal?.aborted === true) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const unsubscribers: (() => void)[] = [];
      let set = this.parked.get(groupId);
      if (set === undefined) this.parked.set(groupId, (set = new Set()));
      const waiting = set;
      const finish = (): void => {
        if (!waiting.delete(entry)) return;
        this.count--;
        if (waiting.size === 0 && this.parked.get(groupId) === waiting) this.parked.delete(groupId);
        clearTimeout(timer);
        for (const u of unsubscribers) u();
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const entry: Parked = { wake: finish };
      waiting.add(entry);
      this.count++;
      const timer = setTimeout(finish, waitMs);
      signal?.addEventListener('abort', finish, { once: true });
      for (const { topic, partition } of sources) {
        try {
          unsubscribers.push(this.host.onHighWatermark(topic, partition, finish));
        } catch {
          // A partition that no longer exists answers its error on the next pass.
        }
      }
    });
  }

  /** Wakes every fetch parked for `groupId`. */
  wake(groupId: string): void {
    const set = this.parked.get(groupId);
    if (set === undefined) return;
    for (const entry of [...set]) entry.wake();
  }

  wakeAll(): void {
    for (const groupId of [...this.parked.keys()]) this.wake(groupId);
  }
}
