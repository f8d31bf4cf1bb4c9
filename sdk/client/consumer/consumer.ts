import { KafkaError } from '../../protocol/kafka-error.ts';
import { bytesSerde } from '../../serde/basic-serdes.ts';
import type { Serde } from '../../serde/serde.ts';
import type { Transport } from '../../transport/transport.ts';
import { ClusterMetadata } from '../cluster-metadata.ts';
import type { ConsumerOptions } from './consumer-options.ts';
import { type ConsumerBatch, type ConsumerRecord, IsolationLevel, type TopicPartition, tpKey } from './consumer-types.ts';
import { Fetcher, listOffset } from './fetcher.ts';
import { type PendingReset, PartitionState } from './partition-state.ts';
import type { ConsumerGroupMetadata, OffsetToCommit } from '../producer/producer-types.ts';
import { rangeAssignor } from './assignors/range.ts';
import { GroupMembership, type MembershipHost } from './group-membership.ts';
import { commitOffsets, fetchCommittedOffsets } from './offset-committer.ts';
import type { RebalanceListener } from './rebalance-listener.ts';
import type { DecodedChunk, Prefetched } from './fetcher.ts';

/** Bound on assigned partitions. */
const MAX_ASSIGNED_PARTITIONS = 100_000;

/**
 * Reads typed records: from partitions it is given (`assign`) or from those its consumer group
 * assigns it (`subscribe`), then `for await` over records or `batches()`. Fetches run ahead of the
 * application up to `maxPrefetchBytes`; `read_committed` by default, so aborted and not yet
 * committed transactional data never appears. A group member resumes from the group's committed
 * offsets and commits what the application consumed, automatically or with `commit()`.
 */
export class Consumer<K = Uint8Array, V = Uint8Array> {
  protected readonly metadata: ClusterMetadata;
  protected readonly states = new Map<string, PartitionState>();
  protected readonly fetcher: Fetcher<K, V>;
  private readonly isolationLevel: 0 | 1;
  private readonly autoOffsetReset: 'earliest' | 'latest' | 'none';
  protected closed = false;
  private iterating = false;
  private mode: 'none' | 'assign' | 'subscribe' = 'none';
  private group: GroupMembership | undefined;
  private listener: RebalanceListener = {};
  private groupFailure: unknown;
  private readonly lastCommitted = new Map<string, number>();
  private autoCommitTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly transport: Transport,
    private readonly options: ConsumerOptions<K, V> = {},
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
    if (this.mode === 'subscribe') throw new KafkaError('INVALID_CONFIG', 'a subscribed consumer gets its partitions from the group; assign and subscribe are exclusive');
    this.mode = 'assign';
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
    for (const tp of partitions) {
      const state = this.state(tp);
      state.paused = true;
      // Data already fetched stays with the broker until the partition resumes.
      state.rewindToPosition();
    }
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

  /**
   * Records of `tp` the broker holds beyond `position` (Kafka's `Consumer#currentLag`, KIP-695), up
   * to the last stable offset under read_committed, as of the latest fetch answer; undefined before
   * the first answer or while a reset is pending. Records fetched and not yet handed out count.
   */
  currentLag(tp: TopicPartition): number | undefined {
    const state = this.state(tp);
    const end = this.isolationLevel === IsolationLevel.readCommitted ? state.lastStableOffset : state.highWatermark;
    if (state.reset !== undefined || state.position < 0 || end < 0) return undefined;
    return Math.max(0, end - state.position);
  }

  /** Fetched items of partitions still assigned at their epoch, in arrival order; ends when the consumer closes. */
  private async *items(): AsyncGenerator<Prefetched, void, undefined> {
    if (this.iterating) throw new Error('invariant: a consumer has one iterator at a time');
    this.iterating = true;
    this.fetcher.start();
    try {
      while (!this.closed) {
        const failure = this.groupFailure ?? this.fetcher.takeFailure();
        this.groupFailure = undefined;
        if (failure !== undefined) throw failure;
        const item = this.fetcher.buffer.shift();
        if (item === undefined) {
          await this.fetcher.dataArrived.wait();
          continue;
        }
        this.fetcher.consumed(item);
        if (!this.current(item)) continue;
        yield item;
      }
    } finally {
      this.iterating = false;
    }
  }

  /**
   * Whether an item still belongs to its partition's current position. Every seek, reset, revocation
   * or replacement of a partition's state bumps its epoch, so the epoch alone tells (this runs per
   * record in the record iterator).
   */
  private current(item: Prefetched): boolean {
    return item.epoch === item.state.epoch;
  }

  /** An item's records in chunks, decoded as they are handed out; stops when the item goes stale (a seek, a revocation). */
  private *chunks(item: Prefetched): Generator<DecodedChunk<K, V>, void, undefined> {
    for (let i = 0; i < item.batches.length && this.current(item); ) {
      const chunk = this.fetcher.decodeChunk(item, i);
      if (chunk === undefined) return;
      i = chunk.nextBatchIndex;
      yield chunk;
    }
    if (item.batches.length === 0 && this.current(item)) item.state.position = item.nextOffset;
  }

  /**
   * Fetched records in batches, in arrival order (per partition in offset order); a batch counts
   * as consumed once handed out. A batch is a run of one partition's records from one fetch, at
   * most a few thousand unless a single stored batch holds more. With `includeEmpty`, a fetch that
   * only moved the position (past transaction markers, aborted data or compacted gaps) is handed out
   * as a batch without records too, so a reader waiting for a position sees it reached.
   */
  async *batches(options: { includeEmpty?: boolean } = {}): AsyncGenerator<ConsumerBatch<K, V>, void, undefined> {
    for await (const item of this.items()) {
      let handedOut = false;
      try {
        let yielded = false;
        for (const chunk of this.chunks(item)) {
          item.state.position = chunk.nextOffset;
          if (chunk.batch.records.length === 0 && options.includeEmpty !== true) continue;
          yielded = true;
          yield this.group === undefined ? chunk.batch : { ...chunk.batch, groupMetadata: this.group.groupMetadata() };
        }
        if (options.includeEmpty === true && !yielded && this.current(item)) {
          yield { topic: item.state.topic, partition: item.state.partition, records: [], highWatermark: item.highWatermark, lastStableOffset: item.lastStableOffset };
        }
        handedOut = true;
      } finally {
        this.leaveItem(item, handedOut);
      }
    }
  }

  /** Records one at a time; each counts as consumed (for `commit()` and auto-commit) once handed out. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord<K, V>, void, undefined> {
    for await (const item of this.items()) {
      let handedOut = false;
      try {
        for (const chunk of this.chunks(item)) {
          for (const record of chunk.batch.records) {
            // A seek or revocation while the application held the previous record ends this item.
            if (!this.current(item)) break;
            item.state.position = record.offset + 1;
            yield record;
          }
          if (this.current(item)) item.state.position = chunk.nextOffset;
        }
        handedOut = true;
      } finally {
        this.leaveItem(item, handedOut);
      }
    }
  }

  /** An iteration left mid-item (break, return, throw) refetches the rest from the position instead of dropping it. */
  private leaveItem(item: Prefetched, handedOut: boolean): void {
    if (!handedOut && this.current(item)) item.state.rewindToPosition();
  }

  /**
   * Joins the consumer group `groupId` and consumes the partitions it assigns from `topics`, starting
   * at the group's committed offsets (`autoOffsetReset` where none). Replaces an earlier subscription.
   */
  subscribe(topics: readonly string[], listener: RebalanceListener = {}): void {
    const groupId = this.options.groupId;
    if (groupId === undefined) throw new KafkaError('INVALID_CONFIG', 'subscribe needs a groupId');
    if (this.mode === 'assign') throw new KafkaError('INVALID_CONFIG', 'an assigned consumer cannot also subscribe; assign and subscribe are exclusive');
    if (this.closed) throw new KafkaError('INVALID_CONFIG', 'the consumer is closed');
    this.mode = 'subscribe';
    this.listener = listener;
    this.group ??= new GroupMembership(this.metadata, this.membershipHost(), {
      groupId,
      groupInstanceId: this.options.groupInstanceId ?? null,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 45_000,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs ?? 60_000,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 3_000,
      assignors: this.options.assignors ?? [rangeAssignor],
      retryBackoff: this.options.retryBackoff ?? { initialMs: 100, maxMs: 1_000 },
    });
    this.group.subscribe(topics);
    if (this.autoCommit && this.autoCommitTimer === undefined) this.scheduleAutoCommit();
  }

  private get autoCommit(): boolean {
    return this.options.enableAutoCommit ?? true;
  }

  private membershipHost(): MembershipHost {
    return {
      owned: () => this.assignment(),
      revoke: async (partitions, lost) => {
        if (!lost && this.autoCommit) await this.commit(this.consumedOffsets(partitions)).catch(() => undefined);
        try {
          await (lost ? this.listener.onPartitionsLost?.(partitions) : this.listener.onPartitionsRevoked?.(partitions));
        } catch (error) {
          this.fail(error);
        } finally {
          for (const tp of partitions) {
            const key = tpKey(tp.topic, tp.partition);
            const state = this.states.get(key);
            if (state !== undefined) state.epoch++;
            this.states.delete(key);
            this.lastCommitted.delete(key);
          }
          this.changed();
        }
      },
      assign: async (partitions) => {
        if (this.states.size + partitions.length > MAX_ASSIGNED_PARTITIONS) throw new KafkaError('INVALID_CONFIG', `at most ${MAX_ASSIGNED_PARTITIONS} partitions may be assigned`);
        const committed = partitions.length === 0 ? new Map() : await fetchCommittedOffsets(this.metadata, this.options.groupId!, partitions);
        for (const tp of partitions) {
          const key = tpKey(tp.topic, tp.partition);
          const replaced = this.states.get(key);
          if (replaced !== undefined) replaced.epoch++;
          const state = new PartitionState(tp.topic, tp.partition);
          const offset = committed.get(key)?.offset ?? -1;
          if (offset >= 0) {
            state.seek(offset);
            this.lastCommitted.set(key, offset);
          } else {
            const reset = this.defaultReset();
            if (reset === undefined) this.fail(new KafkaError('OFFSET_OUT_OF_RANGE', `${tp.topic}-${tp.partition} has no committed offset and autoOffsetReset is none`));
            else state.requestReset(reset);
          }
          this.states.set(key, state);
        }
        this.changed();
        try {
          await this.listener.onPartitionsAssigned?.(partitions);
        } catch (error) {
          this.fail(error);
        }
      },
      fail: (error) => this.fail(error),
    };
  }

  private fail(error: unknown): void {
    this.groupFailure ??= error;
    this.fetcher.dataArrived.notify();
  }

  private scheduleAutoCommit(): void {
    this.autoCommitTimer = setTimeout(() => {
      const pending = this.group?.stable === true ? this.commit().catch(() => undefined) : Promise.resolve();
      void pending.then(() => {
        if (!this.closed) this.scheduleAutoCommit();
      });
    }, this.options.autoCommitIntervalMs ?? 5_000);
  }

  /** The consumed positions of `partitions` (all assigned by default) not committed yet. */
  private consumedOffsets(partitions: readonly TopicPartition[] = this.assignment()): OffsetToCommit[] {
    const offsets: OffsetToCommit[] = [];
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition);
      const state = this.states.get(key);
      if (state === undefined || state.reset !== undefined || state.position < 0 || this.lastCommitted.get(key) === state.position) continue;
      offsets.push({ topic: tp.topic, partition: tp.partition, offset: state.position });
    }
    return offsets;
  }

  /**
   * Commits `offsets` (each the next offset to consume), or the consumed positions of every assigned
   * partition. A group member commits with its generation, so after it fell out of the group this
   * fails (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS) instead of overwriting the
   * new owner's progress; an assigned consumer with a `groupId` commits outside any generation.
   */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    const group = this.groupMetadataOrAnonymous();
    const list = offsets ?? this.consumedOffsets();
    await commitOffsets(this.metadata, group, list);
    for (const o of list) {
      const key = tpKey(o.topic, o.partition);
      if (this.states.has(key)) this.lastCommitted.set(key, o.offset);
    }
  }

  /** The group's committed offsets for `partitions` (-1: none), with the metadata committed beside each (null: none). */
  async committed(partitions: readonly TopicPartition[] = this.assignment()): Promise<(TopicPartition & { offset: number; metadata: string | null })[]> {
    const group = this.groupMetadataOrAnonymous();
    const found = await fetchCommittedOffsets(this.metadata, group.groupId, partitions);
    return partitions.map((tp) => {
      const c = found.get(tpKey(tp.topic, tp.partition));
      return { topic: tp.topic, partition: tp.partition, offset: c?.offset ?? -1, metadata: c?.metadata ?? null };
    });
  }

  private groupMetadataOrAnonymous(): ConsumerGroupMetadata {
    if (this.group !== undefined) return this.group.groupMetadata();
    if (this.options.groupId === undefined) throw new KafkaError('INVALID_CONFIG', 'committing offsets needs a groupId');
    return { groupId: this.options.groupId, generationId: -1, memberId: '', groupInstanceId: null };
  }

  /** The member's group, generation and ids, for a transactional producer's `sendOffsets` (KIP-447). */
  groupMetadata(): ConsumerGroupMetadata {
    if (this.group === undefined) throw new KafkaError('INVALID_CONFIG', 'groupMetadata needs a subscribed consumer');
    return this.group.groupMetadata();
  }

  /**
   * Ends iteration, gives up the group's partitions (committing consumed positions with auto-commit)
   * and leaves the group (a static member stays until its session expires), then stops fetching.
   * The transport stays open (the caller owns it).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.autoCommitTimer);
    this.fetcher.dataArrived.notify();
    await this.group?.close();
    await this.fetcher.stop();
  }
}
