import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import type { Broker } from '../broker.ts';
import { Acks } from '../log/acks.ts';
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue, type TxnRecordValue } from './txn-record.ts';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';
const LOAD_FETCH_BYTES = 1024 * 1024;

/**
 * The compacted internal topic holding every transactional id's state, one partition (a single
 * node coordinates every id). Created on the first write. Each change is appended with acks=all
 * before the coordinator acts on it, so a restart resumes from the last durable state.
 */
export class TxnLog {
  private creating: Promise<void> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly nowMs: () => number,
  ) {}

  private ensureTopic(): Promise<void> {
    if (this.broker.hasTopic(TRANSACTION_STATE_TOPIC)) return Promise.resolve();
    this.creating ??= this.broker
      .createTopic(TRANSACTION_STATE_TOPIC, { partitions: 1, config: { 'cleanup.policy': 'compact' } })
      .then(() => undefined)
      .finally(() => (this.creating = undefined));
    return this.creating;
  }

  /** Appends one id's new state (null: forget it), resolving once it is fsynced. */
  async write(transactionalId: string, value: TxnRecordValue | null): Promise<void> {
    await this.ensureTopic();
    const builder = new RecordBatchBuilder({ clock: this.nowMs });
    builder.append({ key: encodeTxnKey(transactionalId), value: value === null ? null : encodeTxnValue(value) });
    await this.broker.append(TRANSACTION_STATE_TOPIC, 0, builder.seal(), Acks.all);
  }

  /** Every id's last state in log order; later records replace earlier ones, tombstones delete. */
  async replay(): Promise<Map<string, TxnRecordValue>> {
    const states = new Map<string, TxnRecordValue>();
    if (!this.broker.hasTopic(TRANSACTION_STATE_TOPIC)) return states;
    const [p] = this.broker.describeTopic(TRANSACTION_STATE_TOPIC).partitions;
    if (p === undefined) return states;
    let fetchOffset = p.logStartOffset;
    while (fetchOffset < p.highWatermark) {
      const [result] = await this.broker.fetch({
        partitions: [{ topic: TRANSACTION_STATE_TOPIC, partition: 0, fetchOffset, partitionMaxBytes: LOAD_FETCH_BYTES }],
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: LOAD_FETCH_BYTES,
      });
      if (result === undefined) throw new Error('invariant broken: a fetch of one partition returned no result');
      if (result.error !== undefined) throw result.error;
      const before = fetchOffset;
      for (const batch of readRecordBatches(result.records)) {
        if (batch.lastOffset < fetchOffset) continue;
        for (const record of batch.records()) {
          if (record.offset < fetchOffset || record.key === null) continue;
          const id = decodeTxnKey(record.key);
          if (id === undefined) continue;
          if (record.value === null) states.delete(id);
          else states.set(id, decodeTxnValue(record.value));
        }
        fetchOffset = batch.lastOffset + 1;
      }
      if (fetchOffset === before) throw new Error(`invariant broken: ${TRANSACTION_STATE_TOPIC}-0 returned nothing at ${fetchOffset}`);
    }
    return states;
  }
}
