import { setImmediate } from 'node:timers';
import { ApiKey, type FetchResponsePartitionData, ZERO_UUID } from '../../protocol/mod.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import { KafkaError } from '../../protocol/kafka-error.ts';
import { readRecordBatches, type RecordBatchView, type RecordVisitor } from '../../record/record-batch-reader.ts';
import type { Serde } from '../../serde/serde.ts';
import { type BackoffOptions, backoffMs } from '../../transport/backoff.ts';
import type { ClusterMetadata } from '../cluster-metadata.ts';
import { errorFromCode } from '../error-from-code.ts';
import { AbortedTransactionFilter } from './aborted-transactions.ts';
import type { AutoOffsetReset, ConsumerBatch, ConsumerRecord, IsolationLevelValue } from './consumer-types.ts';
import type { PartitionState } from './partition-state.ts';
import { Signal } from '../signal.ts';

export interface FetcherOptions<K, V> {
  isolationLevel: IsolationLevelValue;
  autoOffsetReset: AutoOffsetReset;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxPartitionBytes: number;
  maxPrefetchBytes: number;
  requestTimeoutMs: number;
  retryBackoff: BackoffOptions;
  keySerde: Serde<K>;
  valueSerde: Serde<V>;
}

/** A fetched batch waiting for the application, tagged with the seek epoch it was fetched under. */
export interface Prefetched<K, V> {
  state: PartitionState;
  epoch: number;
  batch: ConsumerBatch<K, V>;
  /** The partition's fetch position after this batch (past control and aborted batches too). */
  nextOffset: number;
  bytes: number;
}

/** One partition's fetched batches, its position already past them, waiting to be decoded. */
interface PendingDecode {
  state: PartitionState;
  epoch: number;
  /** The offset fetched from: records before it (in the first batch) are skipped. */
  offset: number;
  nextOffset: number;
  batches: RecordBatchView[];
  bytes: number;
  highWatermark: number;
  lastStableOffset: number;
}

/**
 * Bound on partitions waiting for decoding. They are decoded in the task after their fetch
 * returned, so at most one fetch's partitions per broker wait; this only catches a broken invariant.
 */
const MAX_QUEUED_DECODES = 1_000_000;
/** Answers at least this large are decoded in a later task, after the next fetch went out. */
const DEFER_DECODE_BYTES = 64 * 1024;

/**
 * Keeps fetches in flight (one per broker) for every fetchable partition while the prefetch buffer
 * has room, resolves offset resets with ListOffsets, and queues decoded batches for the consumer.
 */
export class Fetcher<K, V> {
  readonly buffer: Prefetched<K, V>[] = [];
  private bufferedBytes = 0;
  readonly dataArrived = new Signal();
  private readonly changed = new Signal();
  private readonly nodesFetching = new Set<number>();
  /** Partitions' fetched batches waiting to be decoded, in arrival order. */
  private readonly decodeQueue: PendingDecode[] = [];
  private failure: unknown;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Fetches go on a connection of their own: the broker answers a connection's requests in order,
   * so a fetch it holds for `maxWaitMs` would otherwise delay every request behind it from a
   * producer, commit or admin call sharing the transport (a transaction's steps by up to maxWaitMs each).
   */
  private readonly lane = `fetcher-${crypto.randomUUID()}`;

  constructor(
    private readonly metadata: ClusterMetadata,
    private readonly states: () => Iterable<PartitionState>,
    private readonly options: FetcherOptions<K, V>,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Assignment, seek, pause/resume or consumption changed what can be fetched. */
  wake(): void {
    this.changed.notify();
  }

  /** The first non-retriable error, surfaced once to the consumer. */
  takeFailure(): unknown {
    const failure = this.failure;
    this.failure = undefined;
    return failure;
  }

  consumed(item: Prefetched<K, V>): void {
    this.bufferedBytes -= item.bytes;
    this.changed.notify();
  }

  /** Drops buffered batches of partitions that were reassigned or sought. */
  discardStale(): void {
    for (let i = this.buffer.length - 1; i >= 0; i--) {
      const item = this.buffer[i]!;
      if (item.state.epoch !== item.epoch) {
        this.buffer.splice(i, 1);
        this.bufferedBytes -= item.bytes;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.changed.notify();
    this.dataArrived.notify();
    await this.loop;
    await this.metadata.transport.releaseLane?.(this.lane);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const changed = this.changed.wait();
      const now = Date.now();
      let nextMs = Infinity;
      const resets: PartitionState[] = [];
      const byNode = new Map<number, PartitionState[]>();
      for (const state of this.states()) {
        if (state.reset !== undefined && !state.paused && !state.fetching) {
          resets.push(state);
          continue;
        }
        if (!state.fetchable || this.bufferedBytes >= this.options.maxPrefetchBytes) continue;
        if (state.notBeforeMs > now) {
          nextMs = Math.min(nextMs, state.notBeforeMs);
          continue;
        }
        let nodeId: number;
        try {
          nodeId = await this.metadata.leader(state.topic, state.partition);
        } catch (error) {
          this.onPartitionError(state, error);
          continue;
        }
        if (this.nodesFetching.has(nodeId)) continue;
        const list = byNode.get(nodeId) ?? [];
        list.push(state);
        byNode.set(nodeId, list);
      }
      if (resets.length > 0) void this.resolveResets(resets);
      for (const [nodeId, list] of byNode) void this.fetch(nodeId, list);
      if (nextMs !== Infinity) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.changed.notify(), nextMs - now);
      }
      await changed;
    }
  }

  private async resolveResets(states: PartitionState[]): Promise<void> {
    for (const s of states) s.fetching = true;
    try {
      await Promise.all(states.map((s) => this.resolveReset(s)));
    } finally {
      for (const s of states) s.fetching = false;
      this.changed.notify();
    }
  }

  private async resolveReset(state: PartitionState): Promise<void> {
    const reset = state.reset;
    if (reset === undefined) return;
    const epoch = state.epoch;
    try {
      const timestamp = reset.kind === 'earliest' ? -2 : reset.kind === 'latest' ? -1 : reset.timestampMs;
      let offset = await listOffset(this.metadata, state.topic, state.partition, timestamp, this.options.isolationLevel);
      if (offset < 0) offset = await listOffset(this.metadata, state.topic, state.partition, -1, this.options.isolationLevel);
      if (state.epoch === epoch) state.seek(offset);
    } catch (error) {
      this.onPartitionError(state, error);
    }
  }

  private async fetch(nodeId: number, states: PartitionState[]): Promise<void> {
    this.nodesFetching.add(nodeId);
    const requested = states.map((s) => ({ state: s, epoch: s.epoch, offset: s.fetchPosition }));
    for (const s of states) s.fetching = true;
    try {
      const transport = this.metadata.transport;
      const version = await transport.apiVersion(ApiKey.Fetch, nodeId);
      // stop() has released the lane; sending now would open it again and leave it open.
      if (this.stopped) return;
      const topics = new Map<string, { partition: number; currentLeaderEpoch: number; fetchOffset: bigint; lastFetchedEpoch: number; logStartOffset: bigint; partitionMaxBytes: number; replicaDirectoryId: string }[]>();
      for (const { state, offset } of requested) {
        const list = topics.get(state.topic) ?? [];
        list.push({
          partition: state.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(offset),
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: this.options.maxPartitionBytes,
          replicaDirectoryId: ZERO_UUID,
        });
        topics.set(state.topic, list);
      }
      const response = await transport.send(
        ApiKey.Fetch,
        version,
        {
          clusterId: null,
          replicaId: -1,
          replicaState: { replicaId: -1, replicaEpoch: -1n },
          maxWaitMs: this.options.maxWaitMs,
          minBytes: this.options.minBytes,
          maxBytes: this.options.maxBytes,
          isolationLevel: this.options.isolationLevel,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...topics].map(([topic, partitions]) => ({ topic, topicId: ZERO_UUID, partitions })),
          forgottenTopicsData: [],
          rackId: '',
        },
        { nodeId, lane: this.lane, timeoutMs: this.options.requestTimeoutMs + this.options.maxWaitMs },
      );
      if (response.errorCode !== 0) throw errorFromCode(response.errorCode, 'fetch');
      const results = new Map<string, FetchResponsePartitionData>();
      for (const t of response.responses) for (const p of t.partitions) results.set(`${p.partitionIndex}:${t.topic}`, p);
      for (const r of requested) {
        const data = results.get(`${r.state.partition}:${r.state.topic}`);
        if (data === undefined || r.state.epoch !== r.epoch || r.state.fetchPosition !== r.offset) continue;
        this.onPartitionData(r.state, r.offset, data);
      }
    } catch (error) {
      for (const r of requested) if (r.state.epoch === r.epoch) this.onPartitionError(r.state, error);
    } finally {
      for (const s of states) s.fetching = false;
      this.nodesFetching.delete(nodeId);
      this.changed.notify();
    }
  }

  /**
   * Takes one partition's answer: its position moves past the returned batches at once, so the
   * next fetch can go out while this one's records are decoded (in a later task, in arrival order).
   */
  private onPartitionData(state: PartitionState, offset: number, data: FetchResponsePartitionData): void {
    if (data.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      if (this.options.autoOffsetReset === 'none') {
        this.onPartitionError(state, errorFromCode(data.errorCode, `fetch ${state.topic}-${state.partition} at offset ${offset}`));
      } else {
        state.requestReset({ kind: this.options.autoOffsetReset });
      }
      return;
    }
    if (data.errorCode !== 0) {
      this.onPartitionError(state, errorFromCode(data.errorCode, `fetch ${state.topic}-${state.partition}`));
      return;
    }
    state.highWatermark = Number(data.highWatermark);
    state.lastStableOffset = Number(data.lastStableOffset);
    if (data.records === null || data.records.length === 0) return;
    const filter = this.options.isolationLevel === 1 ? new AbortedTransactionFilter(data.abortedTransactions) : undefined;
    const batches: RecordBatchView[] = [];
    let next = offset;
    let bytes = 0;
    try {
      for (const batch of readRecordBatches(data.records)) {
        if (batch.lastOffset < next) continue;
        const skip = filter?.skip(batch) ?? batch.isControl;
        next = batch.lastOffset + 1;
        if (skip) continue;
        bytes += batch.byteLength;
        batches.push(batch);
      }
    } catch (error) {
      this.onPartitionError(state, error);
      return;
    }
    if (next === offset) return;
    state.fetchPosition = next;
    this.bufferedBytes += bytes;
    const job: PendingDecode = {
      state,
      epoch: state.epoch,
      offset,
      nextOffset: next,
      batches,
      bytes,
      highWatermark: state.highWatermark,
      lastStableOffset: state.lastStableOffset,
    };
    // A small answer is decoded at once: deferring it would only add latency.
    if (bytes < DEFER_DECODE_BYTES && this.decodeQueue.length === 0) {
      this.decode(job);
      this.dataArrived.notify();
      return;
    }
    if (this.decodeQueue.length >= MAX_QUEUED_DECODES) throw new Error('invariant: more fetched partitions wait for decoding than fetches can return');
    this.decodeQueue.push(job);
    if (this.decodeQueue.length === 1) setImmediate(this.decodeQueued);
  }

  private readonly decodeQueued = (): void => {
    for (const job of this.decodeQueue.splice(0)) this.decode(job);
    this.dataArrived.notify();
  };

  private decode(job: PendingDecode): void {
    const { state } = job;
    // A seek, a reassignment or an earlier decoding failure (which moved the position back) voids the job.
    if (this.stopped || state.epoch !== job.epoch || state.fetchPosition < job.nextOffset) {
      this.bufferedBytes -= job.bytes;
      return;
    }
    const records: ConsumerRecord<K, V>[] = [];
    const { topic, partition } = state;
    const { keySerde, valueSerde } = this.options;
    const minOffset = job.offset;
    const visit: RecordVisitor = (offset, timestamp, key, value, headers) => {
      if (offset < minOffset) return;
      records.push({
        topic,
        partition,
        offset,
        timestamp,
        key: key === null ? null : keySerde.deserialize(key),
        value: value === null ? null : valueSerde.deserialize(value),
        headers,
      });
    };
    try {
      for (const batch of job.batches) batch.forEachRecord(visit);
    } catch (error) {
      this.bufferedBytes -= job.bytes;
      state.fetchPosition = job.offset;
      this.onPartitionError(state, error);
      return;
    }
    const batch: ConsumerBatch<K, V> = {
      topic,
      partition,
      records,
      highWatermark: job.highWatermark,
      lastStableOffset: job.lastStableOffset,
    };
    this.buffer.push({ state, epoch: job.epoch, batch, nextOffset: job.nextOffset, bytes: job.bytes });
  }

  private onPartitionError(state: PartitionState, error: unknown): void {
    if (error instanceof KafkaError && error.retriable) {
      this.metadata.invalidate(state.topic);
      state.notBeforeMs = Date.now() + backoffMs(0, this.options.retryBackoff);
      return;
    }
    this.failure ??= error;
    state.paused = true;
    this.dataArrived.notify();
  }
}

/** ListOffsets for one partition: -2 earliest, -1 latest, else the first offset at or after the time (-1 if none). */
export async function listOffset(
  metadata: ClusterMetadata,
  topic: string,
  partition: number,
  timestamp: number,
  isolationLevel: IsolationLevelValue,
): Promise<number> {
  const nodeId = await metadata.leader(topic, partition);
  const version = await metadata.transport.apiVersion(ApiKey.ListOffsets, nodeId);
  const response = await metadata.transport.send(
    ApiKey.ListOffsets,
    version,
    {
      replicaId: -1,
      isolationLevel,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: BigInt(timestamp), maxNumOffsets: 1 }] }],
      timeoutMs: 30_000,
    },
    { nodeId },
  );
  const result = response.topics[0]?.partitions[0];
  if (result === undefined) throw new KafkaError('UNKNOWN_SERVER_ERROR', `ListOffsets returned nothing for ${topic}-${partition}`);
  if (result.errorCode !== 0) throw errorFromCode(result.errorCode, `ListOffsets ${topic}-${partition}`);
  return Number(result.offset);
}
