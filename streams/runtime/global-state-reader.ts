import type { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import { IsolationLevel, type TopicPartition, tpKey } from '../../sdk/client/consumer/consumer-types.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import type { GlobalStores } from './global-stores.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';

/** Where reading starts on one partition of a global topic, and the end its restore reaches. */
interface PartitionPlan extends TopicPartition {
  readonly earliest: number;
  readonly latest: number;
}

/**
 * The process's reader of its global stores' topics (Kafka Streams' global stream thread): one
 * consumer outside any group, assigned every partition of every global topic, read_committed.
 *
 * `prepare()` checks the topics and takes, per partition, its first offset and its end as
 * read_committed readers see it (the last stable offset). `run()` reads each partition from its
 * first offset, so every start rebuilds the stores from their topics (no local snapshot: the
 * topics are compacted tables, and a replay needs no bookkeeping of what a snapshot covers);
 * once every partition reached the end `prepare()` saw, `onRestored` is called, and the reader
 * goes on applying new records as they come until `stop()`.
 */
export class GlobalStateReader {
  private readonly consumer: Consumer<Uint8Array, Uint8Array>;
  private plan: PartitionPlan[] | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly stores: GlobalStores,
    transport: Transport,
    private readonly admin: Admin,
    maxPrefetchBytes: number,
  ) {
    this.consumer = new Consumer(transport, { isolationLevel: 'read_committed', autoOffsetReset: 'earliest', maxWaitMs: 100, maxPrefetchBytes });
  }

  /** Checks that every global topic exists and takes the offsets the restore goes from and to. */
  async prepare(): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const plan: PartitionPlan[] = [];
    for (const topic of this.stores.topics()) {
      if (!existing.has(topic)) throw new StreamsError(StreamsErrorCode.topicMismatch, `global table topic "${topic}" does not exist; create it before starting the application`);
      for (const o of await this.admin.topicOffsets(topic, IsolationLevel.readCommitted)) plan.push({ topic, partition: o.partition, earliest: o.earliest, latest: o.latest });
    }
    this.plan = plan;
  }

  /**
   * Restores the stores from their topics, calls `onRestored`, then keeps them up to date. Resolves
   * once `stop()` ended the reading, rejects with what made it fail (a record the policy does not
   * skip, a fetch that failed for good).
   */
  async run(onRestored: () => void): Promise<void> {
    const plan = this.plan;
    if (plan === undefined) throw new Error('invariant: the global state reader runs after prepare()');
    const pending = new Map<string, number>();
    for (const p of plan) if (p.latest > p.earliest) pending.set(tpKey(p.topic, p.partition), p.latest);
    let restored = false;
    const checkRestored = (): void => {
      if (restored || pending.size > 0) return;
      restored = true;
      onRestored();
    };
    checkRestored();
    if (this.closing !== undefined) return;
    this.consumer.assign(plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.earliest })));
    for await (const batch of this.consumer.batches({ includeEmpty: true })) {
      for (const record of batch.records) this.stores.apply({ topic: batch.topic, partition: batch.partition, offset: record.offset, key: record.key, value: record.value });
      if (restored) continue;
      const key = tpKey(batch.topic, batch.partition);
      const end = pending.get(key);
      if (end !== undefined && (this.consumer.position(batch) ?? 0) >= end) {
        pending.delete(key);
        checkRestored();
      }
    }
  }

  /** Ends the reading (a restore in progress too); `run()` then resolves. */
  stop(): Promise<void> {
    this.closing ??= this.consumer.close();
    return this.closing;
  }
}
