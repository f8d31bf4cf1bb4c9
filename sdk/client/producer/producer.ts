import { KafkaError } from '../../protocol/kafka-error.ts';
import { ApiKey } from '../../protocol/mod.ts';
import type { RecordHeader, RecordInput } from '../../record/record.ts';
import { bytesSerde, wireSerde } from '../../serde/basic-serdes.ts';
import { isTextSerde, type Serde } from '../../serde/serde.ts';
import type { Transport } from '../../transport/transport.ts';
import { ClusterMetadata } from '../cluster-metadata.ts';
import { Signal } from '../signal.ts';
import { jumpHashPartitioner, murmur2, murmur2Partitioner, type Partitioner } from './partitioner.ts';
import type { ProducerOptions } from './producer-options.ts';
import type { AcksValue, ConsumerGroupMetadata, HeaderInput, OffsetToCommit, ProducerRecord, RecordMetadata } from './producer-types.ts';
import { type BatchSink, EndOffsetsSink, type PartitionEndOffsets, RecordSink } from './producer-batch.ts';
import { estimateBytes, RecordAccumulator } from './record-accumulator.ts';
import { Sender } from './sender.ts';
import { TransactionManager } from './transaction-manager.ts';

const utf8 = new TextEncoder();

const NO_HEADERS: readonly RecordHeader[] = [];

function toHeaders(input: HeaderInput | undefined): readonly RecordHeader[] {
  if (input === undefined) return NO_HEADERS;
  if (Array.isArray(input)) return input as RecordHeader[];
  return Object.entries(input as Record<string, string | Uint8Array | null>).map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? utf8.encode(value) : value,
  }));
}

/**
 * How long a partition count learned from metadata lets `send` append without awaiting a lookup.
 * Short, so that partitions added to a topic or a metadata invalidation are seen within a second.
 */
const KNOWN_PARTITIONS_MS = 1_000;
/** Bound on topics whose partition count the producer remembers for that fast path. */
const MAX_KNOWN_TOPICS = 10_000;

interface PreparedRecord {
  input: RecordInput & { timestamp: number };
  partition: number;
  sizeBytes: number;
}

/** Partitioners that leave every keyless record to the sticky choice, so `send` need not ask them. */
const KEYLESS_STICKY: ReadonlySet<Partitioner> = new Set([murmur2Partitioner, jumpHashPartitioner]);

function acksValue(acks: ProducerOptions<unknown, unknown>['acks']): AcksValue {
  return acks === undefined || acks === 'all' ? -1 : acks;
}

/** What a transaction callback gets: send and sendOffsets bound to the open transaction. */
export interface Transaction<K, V> {
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata>;
  sendOffsets(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata): Promise<void>;
}

/**
 * Sends typed records to a Kafka-protocol broker over any transport: batching per partition,
 * bounded memory with backpressure, retries, idempotence and transactions.
 */
export class Producer<K = Uint8Array, V = Uint8Array> {
  private readonly metadata: ClusterMetadata;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly txn: TransactionManager;
  private readonly keySerde: Serde<K>;
  private readonly valueSerde: Serde<V>;
  /**
   * A value's wire form: a text serde's values (and wireSerde's text) go into batches as text,
   * encoded once, in place, instead of through a byte copy per value.
   */
  private readonly valueWire: (value: V) => Uint8Array | string;
  /** Keys and values go to batches as they are (bytes key, bytes or wire value). */
  private readonly passThrough: boolean;
  private readonly partitioner: Partitioner;
  private readonly sticky = new Map<string, number>();
  private readonly idempotent: boolean;
  private ready: Promise<void> | undefined;
  /** The producer id is in place (or none is needed): sends need not wait for `ready`. */
  private initialized = false;
  private readonly knownPartitions = new Map<string, { count: number; checkedMs: number }>();
  /**
   * Sends between their call and their append, in call order: flush and commit wait for them too.
   * Their records stay the caller's until appended; awaiting the returned promises bounds them.
   */
  private readonly waiting: { records: readonly ProducerRecord<K, V>[]; next: number; sink: BatchSink }[] = [];
  private readonly appended = new Signal();
  private closed = false;

  constructor(
    readonly transport: Transport,
    options: ProducerOptions<K, V> = {},
  ) {
    const acks = acksValue(options.acks);
    const transactional = options.transactionalId !== undefined;
    this.idempotent = options.idempotent ?? true;
    if (transactional && !this.idempotent) throw new KafkaError('INVALID_CONFIG', 'a transactional producer is idempotent; drop idempotent: false');
    if (this.idempotent && acks !== -1) {
      throw new KafkaError('INVALID_CONFIG', `idempotence needs acks=all, got acks=${acks}; pass idempotent: false to use it`);
    }
    const maxInFlightPerPartition = options.maxInFlightPerPartition ?? 5;
    if (this.idempotent && maxInFlightPerPartition > 5) {
      throw new KafkaError('INVALID_CONFIG', 'an idempotent producer keeps at most 5 batches per partition in flight');
    }
    this.keySerde = options.keySerde ?? (bytesSerde as unknown as Serde<K>);
    this.valueSerde = options.valueSerde ?? (bytesSerde as unknown as Serde<V>);
    const valueSerde = this.valueSerde;
    this.passThrough = (this.keySerde as Serde<unknown>) === bytesSerde && ((valueSerde as Serde<unknown>) === bytesSerde || (valueSerde as Serde<unknown>) === wireSerde);
    if ((valueSerde as Serde<unknown>) === wireSerde) this.valueWire = (value) => value as Uint8Array | string;
    else if (isTextSerde(valueSerde)) this.valueWire = (value) => valueSerde.toText(value);
    else this.valueWire = (value) => valueSerde.serialize(value);
    this.partitioner = options.partitioner ?? murmur2Partitioner;
    this.metadata = new ClusterMetadata(transport, { allowAutoTopicCreation: options.allowAutoTopicCreation });
    this.txn = new TransactionManager(this.metadata, options.transactionalId ?? null, options.transactionTimeoutMs ?? 60_000);
    this.accumulator = new RecordAccumulator({
      batchSizeBytes: options.batchSizeBytes ?? 64 * 1024,
      bufferMemoryBytes: options.bufferMemoryBytes ?? 32 * 1024 * 1024,
      maxPartitions: options.maxPartitions ?? 100_000,
      compression: options.compression ?? 'none',
    });
    this.sender = new Sender(this.accumulator, this.metadata, {
      acks,
      lingerMs: options.lingerMs ?? 0,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
      retries: options.retries ?? Number.MAX_SAFE_INTEGER,
      retryBackoff: options.retryBackoff ?? { initialMs: 100, maxMs: 1_000 },
      maxInFlightPerPartition,
      maxInFlightRequests: options.maxInFlightRequests ?? 5,
      idempotent: this.idempotent,
      identity: () => this.txn.identity,
      beforeSend: this.txn.beforeSend,
      onFatalBatchError: () => this.resetProducerId(),
    });
  }

  /** Gets a producer id when idempotent (InitProducerId); runs once, on first use. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      if (!this.idempotent) {
        this.initialized = true;
        return;
      }
      if (!(await this.transport.supports(ApiKey.InitProducerId))) {
        throw new KafkaError(
          'UNSUPPORTED_VERSION',
          'the broker does not support idempotent producers (no InitProducerId in ApiVersions); create the producer with idempotent: false',
        );
      }
      await this.txn.init();
      this.initialized = true;
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** After a batch failed for good its sequence numbers are lost, so the producer starts over with a new id. */
  private resetProducerId(): void {
    if (this.txn.transactionalId !== null) return;
    this.initialized = false;
    this.ready = this.txn.init().then(() => {
      for (const queue of this.accumulator.partitions.values()) queue.nextSequence = 0;
      this.initialized = true;
    });
  }

  /**
   * Buffers one record and resolves with its offset once the broker acknowledges it. Records are
   * appended in call order: while earlier sends still wait (for the producer id, metadata or
   * buffer memory), later ones queue behind them instead of taking the synchronous path.
   */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new KafkaError('INVALID_TXN_STATE', 'the producer is closed'));
    if (this.waiting.length === 0) {
      try {
        const nowMs = Date.now();
        if (this.canAppendNow(record.topic, nowMs)) {
          const prepared = this.prepare(record, this.knownPartitions.get(record.topic)!.count, nowMs);
          if (this.accumulator.tryReserve(prepared.sizeBytes)) return this.appendPrepared(record.topic, prepared, nowMs);
        }
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const sink = new RecordSink(1);
    this.enqueue([record], 0, sink);
    return sink.done.then((sent) => sent[0]!);
  }

  /** Whether a record for `topic` may be appended synchronously: producer id in place, partition count seen recently, sends allowed. */
  private canAppendNow(topic: string, nowMs: number): boolean {
    if (!this.initialized) return false;
    const known = this.knownPartitions.get(topic);
    if (known === undefined || nowMs - known.checkedMs >= KNOWN_PARTITIONS_MS) return false;
    this.txn.assertCanSend();
    return true;
  }

  /**
   * Sends records in order and resolves once with their offsets (in the same order), or rejects
   * with the first failure. Cheaper than one `send` per record: no promise per record.
   */
  sendBatch(records: readonly ProducerRecord<K, V>[]): Promise<RecordMetadata[]> {
    if (this.closed) return Promise.reject(new KafkaError('INVALID_TXN_STATE', 'the producer is closed'));
    const sink = new RecordSink(records.length);
    this.sendInto(records, sink);
    return sink.done;
  }

  /**
   * Sends records in order and resolves once every one is acknowledged, with the offset after the
   * last record written to each partition, or rejects with the first failure. The cheapest way to
   * send many records: no object per record for the answer.
   */
  sendAll(records: readonly ProducerRecord<K, V>[]): Promise<PartitionEndOffsets> {
    if (this.closed) return Promise.reject(new KafkaError('INVALID_TXN_STATE', 'the producer is closed'));
    const sink = new EndOffsetsSink(records.length);
    this.sendInto(records, sink);
    return sink.done;
  }

  /** Appends what can be appended now and queues the rest behind earlier waiting sends. */
  private sendInto(records: readonly ProducerRecord<K, V>[], sink: BatchSink): void {
    let i = 0;
    if (this.waiting.length === 0) {
      // One clock reading for the call: its records are sent together, and Date.now() per record
      // was 6% of the producer's time.
      const nowMs = Date.now();
      for (; i < records.length; i++) {
        const record = records[i]!;
        try {
          if (!this.canAppendNow(record.topic, nowMs)) break;
          const prepared = this.prepare(record, this.knownPartitions.get(record.topic)!.count, nowMs);
          if (!this.accumulator.tryReserve(prepared.sizeBytes)) break;
          this.appendPrepared(record.topic, prepared, nowMs, sink, i);
        } catch (error) {
          sink.fail(error);
        }
      }
    }
    if (i < records.length) this.enqueue(records, i, sink);
  }

  /** Queues the rest of a send that could not append at once; one loop appends the queue in call order. */
  private enqueue(records: readonly ProducerRecord<K, V>[], from: number, sink: BatchSink): void {
    this.waiting.push({ records, next: from, sink });
    if (this.waiting.length === 1) void this.appendWaiting();
  }

  /**
   * Appends queued sends in call order. It waits only when it must (no producer id or partition
   * count yet, or no buffer memory) and otherwise appends record after record synchronously, so a
   * backlog still fills whole batches instead of trickling out one record per wake-up.
   */
  private async appendWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      const head = this.waiting[0]!;
      for (; head.next < head.records.length; head.next++) {
        const record = head.records[head.next]!;
        try {
          let nowMs = Date.now();
          if (!this.canAppendNow(record.topic, nowMs)) {
            await this.waitToAppend(record.topic);
            nowMs = Date.now();
          }
          const prepared = this.prepare(record, this.knownPartitions.get(record.topic)!.count, nowMs);
          if (!this.accumulator.tryReserve(prepared.sizeBytes)) {
            await this.accumulator.reserve(prepared.sizeBytes);
            nowMs = Date.now();
          }
          this.appendPrepared(record.topic, prepared, nowMs, head.sink, head.next);
        } catch (error) {
          head.sink.fail(error);
        }
      }
      this.waiting.shift();
      if (this.waiting.length === 0) this.appended.notify();
    }
  }

  /** Waits for the producer id and the topic's metadata (remembering its partition count), then checks sends are allowed. */
  private async waitToAppend(topic: string): Promise<void> {
    await this.init();
    this.txn.assertCanSend();
    const metadata = await this.metadata.topic(topic);
    if (this.knownPartitions.size >= MAX_KNOWN_TOPICS) this.knownPartitions.clear();
    this.knownPartitions.set(topic, { count: metadata.leaders.length, checkedMs: Date.now() });
  }

  /**
   * Serializes the record and picks its partition. A record already in wire form (bytes key, bytes
   * or wire value, a header array and a timestamp) is its own batch input: no copy per record.
   */
  private prepare(record: ProducerRecord<K, V>, partitionCount: number, nowMs: number): PreparedRecord {
    let input: RecordInput & { timestamp: number };
    if (this.passThrough && record.timestamp !== undefined && record.key !== undefined && Array.isArray(record.headers)) {
      input = record as unknown as RecordInput & { timestamp: number };
    } else {
      const key = record.key === undefined || record.key === null ? null : this.keySerde.serialize(record.key);
      const value = record.value === null ? null : this.valueWire(record.value);
      input = { key, value, headers: toHeaders(record.headers), timestamp: record.timestamp ?? nowMs };
    }
    const key = input.key ?? null;
    let partition = record.partition;
    if (partition === undefined && key !== null) {
      partition = this.partitioner === murmur2Partitioner ? (murmur2(key) & 0x7fffffff) % partitionCount : this.partitioner.partition({ topic: record.topic, key, partitionCount });
    } else if (partition === undefined && !KEYLESS_STICKY.has(this.partitioner)) {
      partition = this.partitioner.partition({ topic: record.topic, key, partitionCount });
    }
    if (partition === undefined) partition = this.stickyPartition(record.topic, partitionCount);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${record.topic} has ${partitionCount} partitions; partition ${partition} does not exist`);
    }
    return { input, partition, sizeBytes: estimateBytes(key, input.value, input.headers) };
  }

  /** Encodes a record whose buffer memory is reserved into its partition's open batch (giving the memory back if that fails). */
  private appendPrepared(topic: string, prepared: PreparedRecord, nowMs: number): Promise<RecordMetadata>;
  private appendPrepared(topic: string, prepared: PreparedRecord, nowMs: number, sink: BatchSink, slot: number): undefined;
  private appendPrepared(topic: string, prepared: PreparedRecord, nowMs: number, sink?: BatchSink, slot = 0): Promise<RecordMetadata> | undefined {
    const queue = this.accumulator.queue(topic, prepared.partition);
    const opensBatch = queue.open === undefined;
    let done: Promise<RecordMetadata> | undefined;
    try {
      if (sink === undefined) done = this.accumulator.append(queue, prepared.input, prepared.sizeBytes, nowMs);
      else this.accumulator.append(queue, prepared.input, prepared.sizeBytes, nowMs, sink, slot);
    } catch (error) {
      this.accumulator.release(prepared.sizeBytes);
      throw error;
    }
    if (opensBatch) this.sender.wake();
    return done;
  }

  /**
   * Kafka's sticky choice for keyless records: stay on one partition while its batch fills, then
   * move on, so keyless traffic forms full batches instead of many small ones.
   */
  private stickyPartition(topic: string, partitionCount: number): number {
    const current = this.sticky.get(topic);
    if (current !== undefined && current < partitionCount && this.accumulator.queue(topic, current).open !== undefined) return current;
    let next = Math.floor(Math.random() * partitionCount);
    if (partitionCount > 1 && next === current) next = (next + 1) % partitionCount;
    this.sticky.set(topic, next);
    return next;
  }

  /** Sends everything buffered now (and every send already called) and waits for the answers. */
  async flush(): Promise<void> {
    while (this.waiting.length > 0) await this.appended.wait();
    await this.sender.flush();
  }

  async beginTransaction(): Promise<void> {
    await this.init();
    this.txn.begin();
  }

  sendOffsets(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata): Promise<void> {
    return this.txn.sendOffsets(offsets, group);
  }

  /** Flushes the transaction's records, then commits them and any offsets sent with it. */
  async commitTransaction(): Promise<void> {
    await this.flush();
    await this.txn.end(true);
  }

  async abortTransaction(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.txn.end(false);
  }

  /** Runs `work` in a transaction: commits when it resolves, aborts (and rethrows) when it throws. */
  async transaction<T>(work: (tx: Transaction<K, V>) => Promise<T>): Promise<T> {
    await this.beginTransaction();
    let result: T;
    try {
      result = await work({ send: (r) => this.send(r), sendOffsets: (o, g) => this.sendOffsets(o, g) });
      await this.flush();
    } catch (error) {
      await this.abortTransaction().catch(() => undefined);
      throw error;
    }
    await this.commitTransaction();
    return result;
  }

  /** The producer id and epoch (-1 before the first send, and without idempotence). */
  get producerIdentity(): { producerId: number; producerEpoch: number } {
    return { producerId: this.txn.identity.producerId, producerEpoch: this.txn.identity.producerEpoch };
  }

  /** Flushes and stops; the transport stays open (the caller owns it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush().catch(() => undefined);
    this.sender.close();
  }
}
