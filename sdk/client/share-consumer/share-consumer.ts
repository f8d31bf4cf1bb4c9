import { ApiKey, type ShareFetchRequest, type ShareFetchResponse } from '../../protocol/mod.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import { readRecordBatches } from '../../record/record-batch-reader.ts';
import { bytesSerde } from '../../serde/basic-serdes.ts';
import type { Serde } from '../../serde/serde.ts';
import type { Transport } from '../../transport/transport.ts';
import { ClusterMetadata } from '../cluster-metadata.ts';
import { errorFromCode } from '../error-from-code.ts';
import { defaultRetry, retrying } from '../retry.ts';
import { AcknowledgeType, type AcknowledgeTypeValue } from '../../protocol/acknowledge-type.ts';
import { type AcknowledgementBatch, PendingAcknowledgements } from './share-acknowledgements.ts';
import { HandedOutIterator } from './handed-out-iterator.ts';
import type { ShareConsumerOptions, ShareRecord } from './share-consumer-types.ts';

/** Errors after which the member joins again (epoch 0) and opens a new share session. */
const REJOIN_ERRORS: ReadonlySet<number> = new Set([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.FENCED_MEMBER_EPOCH]);
const SESSION_ERRORS: ReadonlySet<number> = new Set([ErrorCode.SHARE_SESSION_NOT_FOUND, ErrorCode.INVALID_SHARE_SESSION_EPOCH]);

interface Assigned {
  topicId: string;
  topic: string;
  partition: number;
}

/**
 * A share-group consumer (KIP-932): members of one group share the records of the same
 * partitions, each record acquired by one member at a time under a lock and acknowledged one by
 * one. Iterate it with `for await`; call `accept()`, `release()` or `reject()` on each record (or
 * let implicit mode accept it); acknowledgements ride on the next ShareFetch, or go out with
 * `commit()` and `close()`. Works over the TCP and the embedded transport alike.
 *
 * Talks to one broker (any the transport knows): the built-in broker is every partition's leader.
 */
export class ShareConsumer<K = Uint8Array, V = Uint8Array> implements AsyncIterable<ShareRecord<K, V>> {
  /** Client-generated, as KIP-1082 has consumers do; stable across rejoins of this instance. */
  readonly memberId = crypto.randomUUID();
  private memberEpoch = 0;
  private sessionEpoch = 0;
  private assigned: Assigned[] = [];
  /** Partitions in the broker's share session; sent again in full whenever the session is new. */
  private inSession = new Set<string>();
  private readonly pending = new PendingAcknowledgements();
  /** Records fetched; those from `handedOut` on are not handed out yet (an index, not shift(): shifting a 500-record array per record cost 7 % of a consumer's CPU). */
  private buffer: ShareRecord<K, V>[] = [];
  private handedOut = 0;
  /** What the last `poll()` returned: accepted at the next poll or commit in implicit mode, unless acknowledged. */
  private polled: readonly ShareRecord<K, V>[] = [];
  private readBy: 'iterator' | 'poll' | undefined;
  private readonly metadata: ClusterMetadata;
  private readonly keySerde: Serde<K>;
  private readonly valueSerde: Serde<V>;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatIntervalMs = 5_000;
  private heartbeating: Promise<void> = Promise.resolve();
  private fetching: Promise<void> | undefined;
  private joined: Promise<void> | undefined;
  private closed = false;
  private assignmentChanged: (() => void) | undefined;
  private readonly lane = `share-${this.memberId}`;
  private readonly heartbeatLane = `share-heartbeat-${this.memberId}`;

  constructor(
    readonly transport: Transport,
    private readonly options: ShareConsumerOptions<K, V>,
  ) {
    if (options.groupId === '') throw new RangeError('ShareConsumer: groupId must not be empty');
    if (options.topics.length === 0) throw new RangeError('ShareConsumer: subscribe to at least one topic');
    this.metadata = new ClusterMetadata(transport, { allowAutoTopicCreation: false });
    this.keySerde = options.keySerde ?? (bytesSerde as unknown as Serde<K>);
    this.valueSerde = options.valueSerde ?? (bytesSerde as unknown as Serde<V>);
  }

  /** Joins the group; the iterator calls it, so calling it first only makes join errors surface early. */
  start(): Promise<void> {
    return (this.joined ??= this.heartbeat());
  }

  [Symbol.asyncIterator](): AsyncIterator<ShareRecord<K, V>> {
    this.readWith('iterator');
    return new HandedOutIterator<ShareRecord<K, V>>({
      start: () => this.start(),
      nextBuffered: () => this.nextBuffered(),
      refill: () => this.fetchOnce(),
      isClosed: () => this.closed,
      acceptsImplicitly: this.options.acknowledgementMode !== 'explicit',
    });
  }

  /**
   * The next records, as Kafka's KafkaShareConsumer.poll returns them: those fetched and not handed
   * out yet, or once there are none, the next ShareFetch's (waiting as long as it takes); empty
   * once the consumer is closed. In implicit mode the records of the previous poll that the caller
   * left unacknowledged are accepted first, and their acceptances ride on this poll's ShareFetch.
   * A loop that handles records in batches pays no promise per record, as `for await` does; a
   * consumer is read one way or the other, not both.
   */
  async poll(): Promise<readonly ShareRecord<K, V>[]> {
    this.readWith('poll');
    await this.start();
    this.settlePolled();
    while (this.handedOut === this.buffer.length && !this.closed) await this.fetchOnce();
    if (this.closed) return [];
    this.polled = this.handedOut === 0 ? this.buffer : this.buffer.slice(this.handedOut);
    this.buffer = [];
    this.handedOut = 0;
    return this.polled;
  }

  /**
   * Sends every pending acknowledgement now (ShareAcknowledge) and waits for the broker's answer;
   * in implicit mode the last poll's records left unacknowledged are accepted first.
   */
  async commit(): Promise<void> {
    this.settlePolled();
    await this.fetching;
    if (this.pending.isEmpty || this.sessionEpoch === 0) return;
    await this.acknowledge(this.sessionEpoch);
  }

  /**
   * Acknowledges what is pending, releases records fetched and not yet handed out, closes the share
   * session and leaves the group. Records handed out and not acknowledged are released too.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.heartbeatTimer);
    this.assignmentChanged?.();
    await this.fetching?.catch(() => undefined);
    for (let i = this.handedOut; i < this.buffer.length; i++) this.buffer[i]!.release();
    this.buffer = [];
    this.handedOut = 0;
    try {
      if (this.sessionEpoch !== 0) await this.acknowledge(-1);
    } finally {
      await this.heartbeating.catch(() => undefined);
      if (this.memberEpoch > 0) {
        await this.transport
          .send(ApiKey.ShareGroupHeartbeat, 0, { groupId: this.options.groupId, memberId: this.memberId, memberEpoch: -1, rackId: null, subscribedTopicNames: null }, { lane: this.heartbeatLane })
          .catch(() => undefined);
      }
      await this.transport.releaseLane?.(this.lane);
      await this.transport.releaseLane?.(this.heartbeatLane);
    }
  }

  private readWith(way: 'iterator' | 'poll'): void {
    if (this.readBy !== undefined && this.readBy !== way) throw new Error(`ShareConsumer: this consumer is read with ${this.readBy === 'poll' ? 'poll()' : 'for await'}; use one way, not both`);
    this.readBy = way;
  }

  private settlePolled(): void {
    if (this.options.acknowledgementMode !== 'explicit') for (const record of this.polled) if (!record.acknowledged) record.accept();
    this.polled = [];
  }

  private nextBuffered(): ShareRecord<K, V> | undefined {
    if (this.handedOut < this.buffer.length) return this.buffer[this.handedOut++];
    if (this.buffer.length > 0) {
      this.buffer = [];
      this.handedOut = 0;
    }
    return undefined;
  }

  private async heartbeat(): Promise<void> {
    const joining = this.memberEpoch === 0;
    const response = await this.transport.send(
      ApiKey.ShareGroupHeartbeat,
      0,
      { groupId: this.options.groupId, memberId: this.memberId, memberEpoch: this.memberEpoch, rackId: null, subscribedTopicNames: joining ? [...this.options.topics] : null },
      { lane: this.heartbeatLane, ...(this.options.requestTimeoutMs === undefined ? {} : { timeoutMs: this.options.requestTimeoutMs }) },
    );
    if (REJOIN_ERRORS.has(response.errorCode) && !joining) {
      this.memberEpoch = 0;
      this.sessionEpoch = 0;
      return this.heartbeat();
    }
    if (response.errorCode !== 0) throw errorFromCode(response.errorCode, `ShareGroupHeartbeat for group "${this.options.groupId}"`, response.errorMessage);
    this.memberEpoch = response.memberEpoch;
    this.heartbeatIntervalMs = response.heartbeatIntervalMs;
    if (response.assignment !== null) await this.applyAssignment(response.assignment.topicPartitions);
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      // A failed heartbeat is tried again at the next interval; the session timeout is several intervals.
      this.heartbeating = this.heartbeat().catch(() => this.scheduleHeartbeat());
    }, this.heartbeatIntervalMs);
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
  }

  private async applyAssignment(topicPartitions: readonly { topicId: string; partitions: number[] }[]): Promise<void> {
    const names = new Map<string, string>();
    for (const topic of this.options.topics) {
      this.metadata.invalidate(topic);
      const metadata = await this.metadata.topic(topic).catch(() => undefined);
      if (metadata !== undefined) names.set(metadata.topicId, metadata.name);
    }
    this.assigned = topicPartitions.flatMap((t) => {
      const topic = names.get(t.topicId);
      return topic === undefined ? [] : t.partitions.map((partition) => ({ topicId: t.topicId, topic, partition }));
    });
    this.assignmentChanged?.();
  }

  /**
   * One ShareFetch: sends pending acknowledgements, buffers the records acquired. Retriable
   * failures (a lost connection, a restarting broker) are tried again with backoff on a new share
   * session; acknowledgements that went out with a failed request are not resent, so their records
   * come back when their locks expire.
   */
  private fetchOnce(): Promise<void> {
    if (this.fetching !== undefined) return this.fetching;
    const attempt = retrying(() => this.fetch(), {
      ...defaultRetry,
      onRetry: () => {
        this.sessionEpoch = 0;
      },
    });
    this.fetching = attempt.finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private async fetch(): Promise<void> {
    if (this.assigned.length === 0) {
      // Nothing assigned yet: wait for the next heartbeat to bring an assignment.
      await new Promise<void>((resolve) => {
        this.assignmentChanged = resolve;
        setTimeout(resolve, this.heartbeatIntervalMs).unref?.();
      });
      this.assignmentChanged = undefined;
      if (this.assigned.length === 0 && !this.closed) this.heartbeating = this.heartbeat().catch(() => undefined);
      return;
    }
    const epoch = this.sessionEpoch;
    const acks = epoch === 0 ? [] : this.pending.take();
    const wanted = new Map(this.assigned.map((a) => [`${a.topicId}:${a.partition}`, a]));
    const partitions = new Map<string, { topicId: string; partition: number; batches: ShareFetchRequest['topics'][number]['partitions'][number]['acknowledgementBatches'] }>();
    for (const [key, a] of wanted) if (epoch === 0 || !this.inSession.has(key)) partitions.set(key, { topicId: a.topicId, partition: a.partition, batches: [] });
    for (const ack of acks) {
      const key = `${ack.topicId}:${ack.partition}`;
      const entry = partitions.get(key) ?? { topicId: ack.topicId, partition: ack.partition, batches: [] };
      entry.batches = toWire(ack.batches);
      partitions.set(key, entry);
    }
    const forgotten = epoch === 0 ? [] : [...this.inSession].filter((key) => !wanted.has(key));
    const request: ShareFetchRequest = {
      groupId: this.options.groupId,
      memberId: this.memberId,
      shareSessionEpoch: epoch,
      maxWaitMs: this.options.maxWaitMs ?? 500,
      minBytes: 1,
      maxBytes: this.options.maxBytes ?? 50 * 1024 * 1024,
      topics: groupByTopic([...partitions.values()], (p) => ({ partitionIndex: p.partition, partitionMaxBytes: this.options.maxPartitionBytes ?? 1024 * 1024, acknowledgementBatches: p.batches })),
      forgottenTopicsData: groupByTopic(
        forgotten.map((key) => {
          const [topicId, partition] = key.split(':') as [string, string];
          return { topicId, partition: Number(partition) };
        }),
        (p) => p.partition,
      ).map((t) => ({ topicId: t.topicId, partitions: t.partitions })),
    };
    const response = await this.transport.send(ApiKey.ShareFetch, 0, request, {
      lane: this.lane,
      timeoutMs: (this.options.requestTimeoutMs ?? 30_000) + request.maxWaitMs,
    });
    if (response.errorCode !== 0) return this.recover(response.errorCode, response.errorMessage);
    this.sessionEpoch = epoch === 0x7fffffff ? 1 : epoch + 1;
    if (epoch === 0) this.inSession = new Set(wanted.keys());
    else {
      for (const key of forgotten) this.inSession.delete(key);
      for (const key of wanted.keys()) this.inSession.add(key);
    }
    this.take(response);
  }

  private async recover(errorCode: number, message: string | null): Promise<void> {
    if (SESSION_ERRORS.has(errorCode)) {
      this.sessionEpoch = 0;
      return;
    }
    if (errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
      this.memberEpoch = 0;
      this.sessionEpoch = 0;
      await this.heartbeat();
      return;
    }
    throw errorFromCode(errorCode, `ShareFetch for group "${this.options.groupId}"`, message);
  }

  private take(response: ShareFetchResponse): void {
    const names = new Map(this.assigned.map((a) => [a.topicId, a.topic]));
    for (const topic of response.responses) {
      const name = names.get(topic.topicId) ?? topic.topicId;
      for (const p of topic.partitions) {
        if (p.acknowledgeErrorCode !== 0) this.options.onAcknowledgementError?.(name, p.partitionIndex, errorFromCode(p.acknowledgeErrorCode, `acknowledging ${name}-${p.partitionIndex}`, p.acknowledgeErrorMessage));
        if (p.acquiredRecords.length === 0) continue;
        const acquired = new AcquiredOffsets(p.acquiredRecords);
        for (const batch of readRecordBatches(p.records ?? new Uint8Array(0))) {
          if (batch.isControl) continue;
          batch.forEachRecord((offset, timestamp, key, value, headers) => {
            const deliveryCount = acquired.take(offset);
            if (deliveryCount === undefined) return;
            this.buffer.push(this.record(topic.topicId, name, p.partitionIndex, offset, deliveryCount, timestamp, key, value, headers));
          });
        }
        // Acquired offsets holding no record (control batches, compacted away) are gaps.
        for (const offset of acquired.untaken()) this.pending.add(topic.topicId, p.partitionIndex, offset, AcknowledgeType.GAP);
      }
    }
  }

  private record(
    topicId: string,
    topic: string,
    partition: number,
    offset: number,
    deliveryCount: number,
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: ShareRecord<K, V>['headers'],
  ): ShareRecord<K, V> {
    return new AcquiredShareRecord<K, V>(
      this.pending,
      topicId,
      topic,
      partition,
      offset,
      timestamp,
      key === null ? null : this.keySerde.deserialize(key),
      value === null ? null : this.valueSerde.deserialize(value),
      headers.length === 0 ? NO_HEADERS : headers.map((h) => ({ key: h.key, value: h.value?.slice() ?? null })),
      deliveryCount,
    );
  }

  private async acknowledge(epoch: number): Promise<void> {
    const acks = this.pending.take();
    if (acks.length === 0 && epoch !== -1) return;
    const response = await this.transport.send(
      ApiKey.ShareAcknowledge,
      0,
      {
        groupId: this.options.groupId,
        memberId: this.memberId,
        shareSessionEpoch: epoch,
        topics: groupByTopic(acks, (a) => ({ partitionIndex: a.partition, acknowledgementBatches: toWire(a.batches) })),
      },
      { lane: this.lane, ...(this.options.requestTimeoutMs === undefined ? {} : { timeoutMs: this.options.requestTimeoutMs }) },
    );
    if (epoch === -1) this.sessionEpoch = 0;
    else if (response.errorCode === 0) this.sessionEpoch = epoch === 0x7fffffff ? 1 : epoch + 1;
    if (response.errorCode !== 0) {
      if (SESSION_ERRORS.has(response.errorCode)) this.sessionEpoch = 0;
      throw errorFromCode(response.errorCode, `ShareAcknowledge for group "${this.options.groupId}"`, response.errorMessage);
    }
    const names = new Map(this.assigned.map((a) => [a.topicId, a.topic]));
    for (const topic of response.responses) {
      for (const p of topic.partitions) {
        if (p.errorCode === 0) continue;
        const name = names.get(topic.topicId) ?? topic.topicId;
        this.options.onAcknowledgementError?.(name, p.partitionIndex, errorFromCode(p.errorCode, `acknowledging ${name}-${p.partitionIndex}`, p.errorMessage));
      }
    }
  }
}

/**
 * A record as the iterator hands it out. A class rather than an object literal with closures and
 * a getter: consumers create one per record, and the literal cost several allocations each.
 */
class AcquiredShareRecord<K, V> implements ShareRecord<K, V> {
  acknowledged = false;
  readonly #pending: PendingAcknowledgements;
  readonly #topicId: string;

  constructor(
    pending: PendingAcknowledgements,
    topicId: string,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly key: K | null,
    readonly value: V | null,
    readonly headers: ShareRecord<K, V>['headers'],
    readonly deliveryCount: number,
  ) {
    this.#pending = pending;
    this.#topicId = topicId;
  }

  accept(): void {
    this.#acknowledge(AcknowledgeType.ACCEPT);
  }

  release(): void {
    this.#acknowledge(AcknowledgeType.RELEASE);
  }

  reject(): void {
    this.#acknowledge(AcknowledgeType.REJECT);
  }

  #acknowledge(type: AcknowledgeTypeValue): void {
    if (this.acknowledged) throw new Error(`record ${this.topic}-${this.partition}@${this.offset} is already acknowledged`);
    this.acknowledged = true;
    this.#pending.add(this.#topicId, this.partition, this.offset, type);
  }
}

/** Shared by every record without headers (most of them), so none allocates an empty array. */
const NO_HEADERS: ShareRecord<unknown, unknown>['headers'] = Object.freeze([]) as unknown as ShareRecord<unknown, unknown>['headers'];

/**
 * The offsets a ShareFetch acquired (ranges, as the broker sends them) with their delivery counts,
 * ticked off as the records are read. Records arrive in ascending offset order, so one cursor tells
 * taken from untaken: an acquired offset the cursor passes without a record is a gap, as is every
 * acquired offset still ahead of it at the end (a Set of taken offsets cost 8 % of a consumer's
 * CPU). A record behind the cursor (a broker sending batches out of order) is not handed out.
 */
class AcquiredOffsets {
  private readonly ranges: { first: number; last: number; deliveryCount: number }[];
  private at = 0;
  /** The lowest offset neither taken nor passed. */
  private next: number;
  private readonly gaps: number[] = [];

  constructor(ranges: readonly { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[]) {
    this.ranges = ranges.map((r) => ({ first: Number(r.firstOffset), last: Number(r.lastOffset), deliveryCount: r.deliveryCount })).sort((a, b) => a.first - b.first);
    this.next = this.ranges[0]?.first ?? 0;
  }

  /** The delivery count of `offset` if it was acquired and not taken yet, else undefined. */
  take(offset: number): number | undefined {
    if (offset < this.next) return undefined;
    let range = this.ranges[this.at];
    while (range !== undefined && range.last < offset) {
      this.pass(range, range.last + 1);
      range = this.ranges[++this.at];
    }
    if (range === undefined || offset < range.first) return undefined;
    this.pass(range, offset);
    this.next = offset + 1;
    return range.deliveryCount;
  }

  /** The acquired offsets no record was taken for. */
  untaken(): number[] {
    for (let range = this.ranges[this.at]; range !== undefined; range = this.ranges[++this.at]) this.pass(range, range.last + 1);
    return this.gaps;
  }

  /** Records `range`'s offsets from the cursor up to `end` (exclusive) as gaps. */
  private pass(range: { first: number; last: number }, end: number): void {
    for (let o = Math.max(this.next, range.first); o < end; o++) this.gaps.push(o);
    this.next = Math.max(this.next, end);
  }
}

function groupByTopic<P extends { topicId: string }, T>(items: readonly P[], map: (item: P) => T): { topicId: string; partitions: T[] }[] {
  const byTopic = new Map<string, T[]>();
  for (const item of items) {
    let list = byTopic.get(item.topicId);
    if (list === undefined) byTopic.set(item.topicId, (list = []));
    list.push(map(item));
  }
  return [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions }));
}

/** Acknowledgement batches with the wire's int64 offsets. */
function toWire(batches: readonly AcknowledgementBatch[]): { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }[] {
  return batches.map((b) => ({ firstOffset: BigInt(b.firstOffset), lastOffset: BigInt(b.lastOffset), acknowledgeTypes: b.acknowledgeTypes }));
}
