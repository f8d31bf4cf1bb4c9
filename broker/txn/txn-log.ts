import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { INTERNAL_TOPIC_CONFIG, type InternalTopics } from '../internal-topics.ts';
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue, type TxnRecordValue } from './txn-record.ts';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/**
 * The compacted internal topic holding every transactional id's state, one partition (a single
 * node coordinates every id). Created on the first write. Each change is appended with acks=all
 * before the coordinator acts on it, so a restart resumes from the last durable state.
 */
export class TxnLog {
  constructor(
    private readonly topics: InternalTopics,
    private readonly nowMs: () => number,
  ) {}

  private async ensureTopic(): Promise<void> {
    await this.topics.create(TRANSACTION_STATE_TOPIC, { partitions: 1, config: INTERNAL_TOPIC_CONFIG });
  }

  /** Appends one id's new state (null: forget it), resolving once it is fsynced. */
  async write(transactionalId: string, value: TxnRecordValue | null): Promise<void> {
    await this.ensureTopic();
    const builder = new RecordBatchBuilder({ clock: this.nowMs });
    builder.append({ key: encodeTxnKey(transactionalId), value: value === null ? null : encodeTxnValue(value) });
    await this.topics.append(TRANSACTION_STATE_TOPIC, 0, builder.seal());
  }

  /** Every id's last state in log order; later records replace earlier ones, tombstones delete. */
  async replay(): Promise<Map<string, TxnRecordValue>> {
    const states = new Map<string, TxnRecordValue>();
    if (this.topics.partitionCount(TRANSACTION_STATE_TOPIC) === undefined) return states;
    await this.topics.replay(TRANSACTION_STATE_TOPIC, 0, (record) => {
      const id = record.key === null ? undefined : decodeTxnKey(record.key);
      if (id === undefined) return;
      if (record.value === null) states.delete(id);
      else states.set(id, decodeTxnValue(record.value));
    });
    return states;
  }
}
