import { KafkaError } from '../../protocol/kafka-error.ts';
import { bytesSerde } from '../../serde/basic-serdes.ts';
import type { Serde } from '../../serde/serde.ts';
import type { Transport } from '../../transport/transport.ts';
import { ClusterMetadata } from '../cluster-metadata.ts';
import type { ConsumerOptions } from './consumer-options.ts';
import { type ConsumerBatch, type ConsumerRecord, IsolationLevel, type TopicPartition, tpKey } from './consumer-types.ts';
import { Fetcher, listOffset } from './fetcher.ts';
import { type PendingReset, PartitionState } from './partition-state.ts';

/** Bound on assigned partitions. */
const MAX_ASSIGNED_PARTITIONS = 100_000;

/**
 * Reads typed records from assigned partitions: `assign`, then `for await` over records or
 * `batches()`. Fetches run ahead of the application up to `maxPrefetchBytes`; `read_committed` by
 * default, so aborted and not yet committed transactional data never appears.
 */
export class Consumer<K = Uint8Array, V = Uint8Array> {
  protected readonly metadata: ClusterMetadata;
  protected readonly states = new Map<string, PartitionState>();
  protected readonly fetcher: Fetcher<K, V>;
  private readonly isolationLevel: 0 | 1;
  private readonly autoOffsetReset: 'earliest' | 'latest' | 'none';
  protected closed = false;
  private iterating = false;

  constructor(
    readonly transport: Transport,
    options: ConsumerOptions<K, V> = {},
  ) {
    this.metadata = new ClusterMetadata(transport, { allowAutoTopicCreation: false });
    this.isolationLevel = options.isolationLevel === 'read_uncommitted' ? IsolationLevel.readUncommitted : IsolationLevel.readCommitted;
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest';
    this.fetcher = new Fetcher(this.metadata, () => this.states.values(), {
      isolationLevel: this.isolationLevel,
      autoOffsetReset: this.autoOffsetReset,
      maxWaitMs: options.maxWaitMs ?? 500,
      minBytes: options.minBytes ?? 1,
      maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
      maxPartitionBytes: options.maxPartitionBytes ?? 1024 * 1024,
      maxPrefetchBytes: options.maxPrefetchBytes ?? 64 * 1024 * 1024,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      retryBackoff: options.retryBackoff ?? { initialMs: 100, maxMs: 1_000 },
      keySerde: options.keySerde ?? (bytesSerde as unknown as Serde<K>),
      valueSerde: options.valueSerde ?? (bytesSerde as unknown as Serde<V>),
    });
  }

  private defaultReset(): PendingReset | undefined {
    return this.autoOffsetReset === 'none' ? undefined : { kind: this.autoOffsetReset };
  }

  /**
   * Replaces the assignment. A partition given an `offset` starts there; one already assigned keeps
   * its position; a new one without an offset starts per `autoOffsetReset`.
   */
  assign(partitions: readonly (TopicPartition & { offset?: number })[]): void {
    if (partitions.length > MAX_ASSIGNED_PARTITIONS) throw new KafkaError('INVALID_CONFIG', `at most ${MAX_ASSIGNED_PARTITIONS} partitions may be assigned`);
    const next = new Map<string, PartitionState>();
    for (const p of partitions) {
      const key = tpKey(p.topic, p.partition);
      const state = this.states.get(key) ?? new PartitionState(p.topic, p.partition);
      if (p.offset !== undefined) state.seek(p.offset);
      else if (!this.states.has(key)) {
        const reset = this.defaultReset();
        if (reset === undefined) throw new KafkaError('OFFSET_OUT_OF_RANGE', `${p.topic}-${p.partition} has no offset and autoOffsetReset is none`);
        state.requestReset(reset);
      }
      next.set(key, state);
    }
    for (const [key, state] of this.states) if (!next.has(key)) state.epoch++;
    this.states.clear();
    for (const [key, state] of next) this.states.set(key, state);
    this.changed();
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  protected changed(): void {
    this.fetcher.discardStale();
    this.fetcher.wake();
    this.fetcher.dataArrived.notify();
  }

  protected state(tp: TopicPartition): PartitionState {
    const state = this.states.get(tpKey(tp.topic, tp.partition));
    if (state === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return state;
  }

  seek(tp: TopicPartition, offset: number): void {
    this.state(tp).seek(offset);
    this.changed();
  }

  seekToBeginning(partitions: readonly TopicPartition[] = this.assignment()): void {
    for (const tp of partitions) this.state(tp).requestReset({ kind: 'earliest' });
    this.changed();
  }

  seekToEnd(partitions: readonly TopicPartition[] = this.assignment()): void {
    for (const tp of partitions) this.state(tp).requestReset({ kind: 'latest' });
    this.changed();
  }

  /** Moves to the first offset whose timestamp is at or after `timestampMs` (the end when there is none). */
  seekToTimestamp(partitions: readonly TopicPartition[], timestampMs: number): void {
    for (const tp of partitions) this.state(tp).requestReset({ kind: 'timestamp', timestampMs });
    this.changed();
  }

  /** The offsets of the first records at or after `timestampMs`, without moving (-1: none). */
  async offsetsForTimes(partitions: readonly TopicPartition[], timestampMs: number): Promise<(TopicPartition & { offset: number })[]> {
    return Promise.all(
      partitions.map(async (tp) => ({ ...tp, offset: await listOffset(this.metadata, tp.topic, tp.partition, timestampMs, this.isolationLevel) })),
    );
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.state(tp).paused = true;
    this.changed();
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.state(tp).paused = false;
    this.changed();
  }

  paused(): TopicPartition[] {
    return [...this.states.values()].filter((s) => s.paused).map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** The next offset the application gets from `tp`; undefined while a reset is pending. */
  position(tp: TopicPartition): number | undefined {
    const state = this.state(tp);
    return state.reset === undefined && state.position >= 0 ? state.position : undefined;
  }

  /** Fetched batches in arrival order (per partition in offset order); ends when the consumer closes. */
  async *batches(): AsyncGenerator<ConsumerBatch<K, V>, void, undefined> {
    if (this.iterating) throw new Error('invariant: a consumer has one iterator at a time');
    this.iterating = true;
    this.fetcher.start();
    try {
      while (!this.closed) {
        const failure = this.fetcher.takeFailure();
        if (failure !== undefined) throw failure;
        const item = this.fetcher.buffer.shift();
        if (item === undefined) {
          await this.fetcher.dataArrived.wait();
          continue;
        }
        this.fetcher.consumed(item);
        if (item.epoch !== item.state.epoch || this.states.get(tpKey(item.state.topic, item.state.partition)) !== item.state) continue;
        item.state.position = item.nextOffset;
        if (item.batch.records.length === 0) continue;
        yield item.batch;
      }
    } finally {
      this.iterating = false;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord<K, V>, void, undefined> {
    for await (const batch of this.batches()) {
      for (const record of batch.records) yield record;
    }
  }

  /** Stops fetching and ends iteration; the transport stays open (the caller owns it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fetcher.stop();
  }
}
