import type { ShareLogHost } from './share-log-host.ts';

interface Parked {
  readonly wake: () => void;
}

/**
 * What a fetch saw before it decided to park: the wake count and each source's high watermark. A
 * change between that look and the park (the acquisition awaits its snapshot's fsync, and records or
 * releases may come meanwhile) would otherwise be missed until the deadline.
 */
export interface ParkingSnapshot {
  readonly wakes: number;
  readonly highWatermarks: readonly number[];
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
  /** Group wakes so far, over all groups (a spurious extra pass is cheap; a per-group map would grow). */
  private wakes = 0;

  constructor(
    private readonly maxParked: number,
    private readonly host: Pick<ShareLogHost, 'onHighWatermark' | 'logOffsets'>,
  ) {}

  /** Taken before an acquisition pass, handed to `park` after it. */
  snapshot(sources: readonly { topic: string; partition: number }[]): ParkingSnapshot {
    return { wakes: this.wakes, highWatermarks: sources.map((s) => this.highWatermarkOf(s)) };
  }

  private highWatermarkOf(source: { topic: string; partition: number }): number {
    try {
      return this.host.logOffsets(source.topic, source.partition).highWatermark;
    } catch {
      return -1;
    }
  }

  park(groupId: string, sources: readonly { topic: string; partition: number }[], seen: ParkingSnapshot, waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.count >= this.maxParked || signal?.aborted === true) return Promise.resolve();
    if (seen.wakes !== this.wakes || sources.some((s, i) => this.highWatermarkOf(s) !== seen.highWatermarks[i])) return Promise.resolve();
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
    this.wakes++;
    const set = this.parked.get(groupId);
    if (set === undefined) return;
    for (const entry of [...set]) entry.wake();
  }

  wakeAll(): void {
    for (const groupId of [...this.parked.keys()]) this.wake(groupId);
  }
}
