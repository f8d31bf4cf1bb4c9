import { ApiKey, type ProduceResponsePartitionProduceResponse } from '../../protocol/mod.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import { isKafkaError, KafkaError } from '../../protocol/kafka-error.ts';
import { type BackoffOptions, backoffMs } from '../../transport/backoff.ts';
import type { ClusterMetadata } from '../cluster-metadata.ts';
import { errorFromCode } from '../error-from-code.ts';
import type { ProducerBatch } from './producer-batch.ts';
import type { AcksValue } from './producer-types.ts';
import type { PartitionQueue, RecordAccumulator } from './record-accumulator.ts';

/** Who the batches are from: an idempotent or transactional producer id, or none (-1). */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
  transactionalId: string | null;
}

export interface SenderOptions {
  acks: AcksValue;
  lingerMs: number;
  requestTimeoutMs: number;
  /** A batch fails once this long has passed since its first record (Kafka's delivery.timeout.ms). */
  deliveryTimeoutMs: number;
  retries: number;
  retryBackoff: BackoffOptions;
  /** Batches of one partition on the wire at once; ordering holds across retries when idempotent. */
  maxInFlightPerPartition: number;
  /** Produce requests on the wire per broker. */
  maxInFlightRequests: number;
  idempotent: boolean;
  identity: () => ProducerIdentity;
  /** Runs before batches go out, e.g. to add their partitions to the open transaction. */
  beforeSend: (batches: readonly ProducerBatch[]) => Promise<void>;
  /** A batch of an idempotent producer failed for good: its sequence numbers are lost. */
  onFatalBatchError: (error: unknown) => void;
}

const INT32_SPAN = 2 ** 31;
const METADATA_ERRORS: ReadonlySet<string> = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'BROKER_NOT_AVAILABLE',
]);

/**
 * Drains closed batches to their partition leaders as Produce requests (one batch per partition
 * per request), handles the answers, and retries what failed with a retriable error.
 */
export class Sender {
  private readonly nodeInFlight = new Map<number, number>();
  private draining = false;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDueMs = Infinity;
  private flushing = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly accumulator: RecordAccumulator,
    private readonly metadata: ClusterMetadata,
    private readonly options: SenderOptions,
  ) {
    accumulator.onReady = () => this.wake();
  }

  /** Schedules a drain: now (a microtask) or once the oldest open batch has lingered long enough. */
  wake(): void {
    queueMicrotask(() => void this.drain());
  }

  /** Sends every buffered record now and resolves once all are acknowledged or failed. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (!this.isIdle()) {
        const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
        this.wake();
        await idle;
      }
    } finally {
      this.flushing--;
    }
  }

  private isIdle(): boolean {
    for (const queue of this.accumulator.partitions.values()) if (!queue.isEmpty) return false;
    return true;
  }

  private async drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.again = false;
        await this.drainOnce();
      } while (this.again);
    } finally {
      this.draining = false;
    }
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async drainOnce(): Promise<void> {
    const now = Date.now();
    let nextDueMs = Infinity;
    const sendable: { queue: PartitionQueue; batch: ProducerBatch }[] = [];
    for (const queue of this.accumulator.partitions.values()) {
      const open = queue.open;
      if (open !== undefined) {
        const due = open.createdMs + this.options.lingerMs;
        if (due <= now || this.flushing > 0) this.accumulator.close(queue);
        else nextDueMs = Math.min(nextDueMs, due);
      }
      const batch = queue.ready[0];
      if (batch === undefined) continue;
      if (queue.inFlight >= (queue.retrying ? 1 : this.options.maxInFlightPerPartition)) continue;
      if (batch.notBeforeMs > now) {
        nextDueMs = Math.min(nextDueMs, batch.notBeforeMs);
        continue;
      }
      sendable.push({ queue, batch });
    }
    this.schedule(nextDueMs);
    if (sendable.length === 0) return;

    const byNode = new Map<number, { queue: PartitionQueue; batch: ProducerBatch }[]>();
    for (const item of sendable) {
      let nodeId: number;
      try {
        nodeId = await this.metadata.leader(item.queue.topic, item.queue.partition);
      } catch (error) {
        item.queue.ready.shift();
        this.onBatchError(item.queue, item.batch, error);
        continue;
      }
      const group = byNode.get(nodeId) ?? [];
      group.push(item);
      byNode.set(nodeId, group);
    }
    for (const [nodeId, items] of byNode) {
      if ((this.nodeInFlight.get(nodeId) ?? 0) >= this.options.maxInFlightRequests) continue;
      for (const { queue } of items) {
        queue.ready.shift();
        queue.inFlight++;
      }
      this.nodeInFlight.set(nodeId, (this.nodeInFlight.get(nodeId) ?? 0) + 1);
      this.again = true;
      void this.sendToNode(nodeId, items).finally(() => {
        this.nodeInFlight.set(nodeId, this.nodeInFlight.get(nodeId)! - 1);
        this.wake();
      });
    }
  }

  private schedule(dueMs: number): void {
    if (dueMs === Infinity || dueMs >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.timerDueMs = dueMs;
    this.timer = setTimeout(() => {
      this.timerDueMs = Infinity;
      void this.drain();
    }, Math.max(0, dueMs - Date.now()));
  }

  private seal(queue: PartitionQueue, batch: ProducerBatch): Uint8Array {
    if (batch.bytes !== undefined) return batch.bytes;
    let baseSequence = -1;
    if (this.options.idempotent) {
      baseSequence = queue.nextSequence;
      queue.nextSequence = (queue.nextSequence + batch.count) % INT32_SPAN;
    }
    return batch.seal(this.options.identity(), baseSequence);
  }

  private async sendToNode(nodeId: number, items: { queue: PartitionQueue; batch: ProducerBatch }[]): Promise<void> {
    const topics = new Map<string, { index: number; records: Uint8Array }[]>();
    try {
      await this.options.beforeSend(items.map((i) => i.batch));
      for (const { queue, batch } of items) {
        batch.attempts++;
        const partitions = topics.get(queue.topic) ?? [];
        partitions.push({ index: queue.partition, records: this.seal(queue, batch) });
        topics.set(queue.topic, partitions);
      }
      const version = await this.metadata.transport.apiVersion(ApiKey.Produce, nodeId);
      const body = {
        transactionalId: this.options.identity().transactionalId,
        acks: this.options.acks,
        timeoutMs: this.options.requestTimeoutMs,
        topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
      };
      if (this.options.acks === 0) {
        await this.metadata.transport.sendWithoutResponse(ApiKey.Produce, version, body, { nodeId });
        for (const { queue, batch } of items) this.onBatchDone(queue, batch, -1, -1);
        return;
      }
      const response = await this.metadata.transport.send(ApiKey.Produce, version, body, {
        nodeId,
        timeoutMs: this.options.requestTimeoutMs + 5_000,
      });
      const results = new Map<string, ProduceResponsePartitionProduceResponse>();
      for (const t of response.responses) for (const p of t.partitionResponses) results.set(`${p.index}:${t.name}`, p);
      for (const { queue, batch } of items) {
        const result = results.get(`${queue.partition}:${queue.topic}`);
        if (result === undefined) {
          this.onBatchError(queue, batch, new KafkaError('UNKNOWN_SERVER_ERROR', `no produce result for ${queue.topic}-${queue.partition}`));
        } else if (result.errorCode === 0 || result.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
          this.onBatchDone(queue, batch, Number(result.baseOffset), Number(result.logAppendTimeMs));
        } else {
          this.onBatchError(queue, batch, errorFromCode(result.errorCode, `produce to ${queue.topic}-${queue.partition}`, result.errorMessage));
        }
      }
    } catch (error) {
      for (const { queue, batch } of items) this.onBatchError(queue, batch, error);
    } finally {
      for (const { queue } of items) queue.inFlight--;
    }
  }

  private onBatchDone(queue: PartitionQueue, batch: ProducerBatch, baseOffset: number, logAppendTimeMs: number): void {
    batch.complete(baseOffset, logAppendTimeMs);
    this.accumulator.release(batch.sizeBytes);
    queue.retrying = queue.ready.some((b) => b.attempts > 0);
  }

  private onBatchError(queue: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    const now = Date.now();
    // An out-of-order sequence right behind a batch that is being retried is that batch's echo.
    const echo = isKafkaError(error, 'OUT_OF_ORDER_SEQUENCE_NUMBER') && queue.ready.some((b) => b.attempts > 0 && b.baseSequence < batch.baseSequence);
    const retriable = (isKafkaError(error) && error.retriable) || echo;
    if (retriable && batch.attempts <= this.options.retries && now - batch.createdMs < this.options.deliveryTimeoutMs) {
      if (isKafkaError(error) && METADATA_ERRORS.has(error.errorName)) this.metadata.invalidate(queue.topic);
      batch.notBeforeMs = now + backoffMs(batch.attempts - 1, this.options.retryBackoff);
      queue.ready.unshift(batch);
      if (this.options.idempotent) {
        // Sealed batches go back in sequence order, ahead of the ones not yet sent.
        queue.ready.sort((a, b) => (a.bytes === undefined ? 1 : 0) - (b.bytes === undefined ? 1 : 0) || a.baseSequence - b.baseSequence);
        queue.retrying = true;
      }
      this.schedule(batch.notBeforeMs);
      return;
    }
    batch.fail(error);
    this.accumulator.release(batch.sizeBytes);
    queue.retrying = queue.ready.some((b) => b.attempts > 0);
    if (this.options.idempotent && batch.bytes !== undefined) this.options.onFatalBatchError(error);
  }

  close(): void {
    clearTimeout(this.timer);
  }
}
