import { randomInt } from 'node:crypto';

/** One partition a fetch session follows: where the consumer reads, and what the last response told it. */
export interface SessionPartition {
  /** The topic as the consumer named it: its name before Fetch v13, its id from v13 on. */
  readonly topicKey: string;
  readonly partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  /** As last sent (-1 before any response): an incremental response leaves out partitions where none of them changed. */
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
}

/**
 * A fetch session (KIP-227): the partitions one consumer fetches, in the order they are read, and
 * the epoch its next incremental request must carry. Partitions that returned records move to the
 * end of the order, so a response filled up by the first partitions does not starve the others.
 */
export class FetchSession {
  /** By `${topicKey}\u0000${partition}`, in read order. */
  readonly partitions = new Map<string, SessionPartition>();
  /** The epoch the next incremental request must carry. */
  epoch = 1;

  constructor(
    readonly id: number,
    public lastUsedMs: number,
  ) {}

  upsert(topicKey: string, partition: number, fetchOffset: number, partitionMaxBytes: number): void {
    const key = sessionPartitionKey(topicKey, partition);
    const existing = this.partitions.get(key);
    if (existing !== undefined) {
      existing.fetchOffset = fetchOffset;
      existing.partitionMaxBytes = partitionMaxBytes;
      return;
    }
    this.partitions.set(key, { topicKey, partition, fetchOffset, partitionMaxBytes, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1 });
  }

  forget(topicKey: string, partition: number): void {
    this.partitions.delete(sessionPartitionKey(topicKey, partition));
  }

  /** Moves a partition that returned records behind the others. */
  moveToEnd(entry: SessionPartition): void {
    const key = sessionPartitionKey(entry.topicKey, entry.partition);
    this.partitions.delete(key);
    this.partitions.set(key, entry);
  }

  /** Kafka's epoch sequence: 1, 2, …, 2^31 - 1, then 1 again. */
  advanceEpoch(): void {
    this.epoch = this.epoch === 0x7fff_ffff ? 1 : this.epoch + 1;
  }
}

export function sessionPartitionKey(topicKey: string, partition: number): string {
  return `${topicKey}\u0000${partition}`;
}

export interface FetchSessionCacheOptions {
  /** Kafka's `max.incremental.fetch.session.cache.slots`: sessions held at once. */
  maxSlots: number;
  /** A full cache evicts only a session idle this long (Kafka's 2-minute minimum eviction age); otherwise a new consumer goes without a session. */
  evictionIdleMs: number;
}

export const defaultFetchSessionCacheOptions: FetchSessionCacheOptions = { maxSlots: 1000, evictionIdleMs: 120_000 };

/**
 * The broker's fetch sessions, bounded by `maxSlots`. Sessions are the broker's, not a connection's:
 * a consumer that reconnects keeps its session. Kept in least-recently-used order, so the eviction
 * candidate is the first.
 */
export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  /** Sessions evicted to make room for new ones since the broker started. */
  evictions = 0;

  constructor(
    private readonly options: FetchSessionCacheOptions = defaultFetchSessionCacheOptions,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A new, empty session, or undefined when every slot holds a session used within `evictionIdleMs`. */
  create(): FetchSession | undefined {
    const now = this.nowMs();
    if (this.sessions.size >= this.options.maxSlots) {
      const oldest = this.sessions.values().next().value;
      if (oldest === undefined || now - oldest.lastUsedMs < this.options.evictionIdleMs) return undefined;
      this.sessions.delete(oldest.id);
      this.evictions++;
    }
    let id: number;
    do id = randomInt(1, 0x7fff_ffff);
    while (this.sessions.has(id));
    const session = new FetchSession(id, now);
    this.sessions.set(id, session);
    return session;
  }

  /** The session, marked as just used. */
  touch(id: number): FetchSession | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    this.sessions.delete(id);
    this.sessions.set(id, session);
    session.lastUsedMs = this.nowMs();
    return session;
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }
}
