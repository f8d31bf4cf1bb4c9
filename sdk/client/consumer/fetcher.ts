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
import { FetchSessionHandler, type SessionFetch } from './fetch-session.ts';
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

/**
 * One partition's answer to a fetch, waiting for the application: its position has already moved
 * past the returned batches, which stay undecoded until handed out (in chunks, `decodeChunk`), so
 * prefetched data costs its bytes and not a record object per record, and decoded records die young.
 */
export interface Prefetched {
  state: PartitionState;
  /** The seek epoch it was fetched under. */
  epoch: number;
  /** The offset fetched from: records before it (in the first batch) are skipped. */
  offset: number;
  /** The partition's fetch position after this answer (past control and aborted batches too). */
  nextOffset: number;
  /** Data batches to hand out, in offset order. */
  batches: RecordBatchView[];
  bytes: number;
  highWatermark: number;
  lastStableOffset: number;
}

/** Records decoded from a run of an item's batches. */
export interface DecodedChunk<K, V> {
  batch: ConsumerBatch<K, V>;
  /** Index of the item's first batch not in this chunk. */
  nextBatchIndex: number;
  /** The partition's position once this chunk is consumed. */
  nextOffset: number;
}

/** A chunk takes whole batches until it holds at least this many records. */
const CHUNK_RECORDS = 2048;

/** How long close() waits for a broker to acknowledge dropping the fetch session. */
const CLOSE_SESSION_TIMEOUT_MS = 1_000;

/**
 * Keeps fetches in flight (one per broker) for every fetchable partition while the prefetch buffer
 * has room, resolves offset resets with ListOffsets, and queues the answers, undecoded, for the consumer.
 */
export class Fetcher<K, V> {
  readonly buffer: Prefetched[] = [];
  private bufferedBytes = 0;
  readonly dataArrived = new Signal();
  private readonly changed = new Signal();
  private readonly nodesFetching = new Set<number>();
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
  /** A fetch session (KIP-227) per broker, bounded by the cluster's size. */
  private readonly sessions = new Map<number, FetchSessionHandler>();

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

  consumed(item: Prefetched): void {
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
    await this.closeSessions();
    await this.metadata.transport.releaseLane?.(this.lane);
  }

  /**
   * Tells each broker to drop this consumer's fetch session, as Kafka's consumer does on close, so a
   * restarting application does not hold the broker's bounded session slots until they expire. Best
   * effort: on the default connection (a long poll may still hold the fetch lane) with a short
   * timeout; a broker that misses it evicts the idle session itself.
   */
  private async closeSessions(): Promise<void> {
    const closing = [...this.sessions].flatMap(([nodeId, session]) => {
      const close = session.close();
      return close === undefined ? [] : [{ nodeId, ...close }];
    });
    await Promise.all(
      closing.map(async ({ nodeId, sessionId, sessionEpoch }) => {
        try {
          const transport = this.metadata.transport;
          const version = await transport.apiVersion(ApiKey.Fetch, nodeId);
          await transport.send(
            ApiKey.Fetch,
            version,
            {
              clusterId: null,
              replicaId: -1,
              replicaState: { replicaId: -1, replicaEpoch: -1n },
              maxWaitMs: 0,
              minBytes: 0,
              maxBytes: this.options.maxBytes,
              isolationLevel: this.options.isolationLevel,
              sessionId,
              sessionEpoch,
              topics: [],
              forgottenTopicsData: [],
              rackId: '',
            },
            { nodeId, timeoutMs: CLOSE_SESSION_TIMEOUT_MS },
          );
        } catch {
          // The broker is gone or slow: its session expires there on its own.
        }
      }),
    );
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

  private session(nodeId: number): FetchSessionHandler {
    let session = this.sessions.get(nodeId);
    if (session === undefined) {
      session = new FetchSessionHandler();
      this.sessions.set(nodeId, session);
    }
    return session;
  }

  private async fetch(nodeId: number, states: PartitionState[]): Promise<void> {
    this.nodesFetching.add(nodeId);
    const requested = states.map((s) => ({ state: s, epoch: s.epoch, offset: s.fetchPosition }));
    for (const s of states) s.fetching = true;
    let sent: { session: FetchSessionHandler; plan: SessionFetch } | undefined;
    try {
      const transport = this.metadata.transport;
      const version = await transport.apiVersion(ApiKey.Fetch, nodeId);
      // stop() has released the lane; sending now would open it again and leave it open.
      if (this.stopped) return;
      const session = this.session(nodeId);
      const plan = session.build(
        requested.map(({ state, offset }) => ({ topic: state.topic, partition: state.partition, fetchOffset: BigInt(offset), partitionMaxBytes: this.options.maxPartitionBytes })),
        version,
      );
      sent = { session, plan };
      const topics = new Map<string, { partition: number; currentLeaderEpoch: number; fetchOffset: bigint; lastFetchedEpoch: number; logStartOffset: bigint; partitionMaxBytes: number; replicaDirectoryId: string }[]>();
      for (const p of plan.partitions) {
        const list = topics.get(p.topic) ?? [];
        list.push({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: p.fetchOffset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: p.partitionMaxBytes,
          replicaDirectoryId: ZERO_UUID,
        });
        topics.set(p.topic, list);
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
          sessionId: plan.sessionId,
          sessionEpoch: plan.sessionEpoch,
          topics: [...topics].map(([topic, partitions]) => ({ topic, topicId: ZERO_UUID, partitions })),
          forgottenTopicsData: plan.forgotten.map((f) => ({ topic: f.topic, topicId: ZERO_UUID, partitions: f.partitions })),
          rackId: '',
        },
        { nodeId, lane: this.lane, timeoutMs: this.options.requestTimeoutMs + this.options.maxWaitMs },
      );
      // A session the broker no longer knows: the next fetch (at once) is full; no partition is in error.
      if (session.onResponse(plan, response.errorCode, response.sessionId)) return;
      if (response.errorCode !== 0) throw errorFromCode(response.errorCode, 'fetch');
      const results = new Map<string, FetchResponsePartitionData>();
      for (const t of response.responses) for (const p of t.partitions) results.set(`${p.partitionIndex}:${t.topic}`, p);
      for (const r of requested) {
        const data = results.get(`${r.state.partition}:${r.state.topic}`);
        if (data === undefined || r.state.epoch !== r.epoch || r.state.fetchPosition !== r.offset) continue;
        this.onPartitionData(r.state, r.offset, data);
      }
    } catch (error) {
      // The broker may or may not have applied the request to its session: start over with a full fetch.
      sent?.session.restart();
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
    this.buffer.push({
      state,
      epoch: state.epoch,
      offset,
      nextOffset: next,
      batches,
      bytes,
      highWatermark: state.highWatermark,
      lastStableOffset: state.lastStableOffset,
    });
    this.dataArrived.notify();
  }

  /**
   * Decodes `item`'s batches from index `from` on until the chunk holds CHUNK_RECORDS records or
   * the item ends. A corrupt batch moves the partition back to the chunk's first offset and is
   * handled as a fetch error (a retriable one backs off and refetches, another is thrown to the
   * application); then this returns undefined.
   */
  decodeChunk(item: Prefetched, from: number): DecodedChunk<K, V> | undefined {
    const { state } = item;
    const records: ConsumerRecord<K, V>[] = [];
    const { topic, partition } = state;
    const { keySerde, valueSerde } = this.options;
    const minOffset = item.offset;
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
    let i = from;
    try {
      while (i < item.batches.length && (i === from || records.length < CHUNK_RECORDS)) item.batches[i++]!.forEachRecord(visit);
    } catch (error) {
      // Refetch from the chunk's start; the seek also voids this partition's later buffered answers.
      state.seek(Math.max(minOffset, item.batches[from]!.baseOffset));
      this.onPartitionError(state, error);
      return undefined;
    }
    return {
      batch: { topic, partition, records, highWatermark: item.highWatermark, lastStableOffset: item.lastStableOffset },
      nextBatchIndex: i,
      nextOffset: i < item.batches.length ? item.batches[i]!.baseOffset : item.nextOffset,
    };
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
