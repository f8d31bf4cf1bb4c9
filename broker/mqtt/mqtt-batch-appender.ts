import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import type { RecordInput } from '../../sdk/record/record.ts';
import type { Broker } from '../broker.ts';
import { Acks } from '../log/acks.ts';

/** Records per batch: bounds one append's size and how long its first record waits for the rest. */
const MAX_BATCH_RECORDS = 1000;
/** Bytes per batch (uncompressed), well under the default max.message.bytes (1 MiB). */
const MAX_BATCH_BYTES = 256 * 1024;

/** Told once a record is in the log, or why it is not. */
export interface AppendWaiter {
  appended(): void;
  failed(error: unknown): void;
}

interface Pending {
  record: RecordInput;
  durable: boolean;
  waiter: AppendWaiter;
}

/**
 * Appends the QoS 0 and 1 records of every connection as one RecordBatch per partition per event
 * loop turn, instead of one batch and one log write per PUBLISH: a device fleet publishes many
 * small messages at once, and per-message batches cost a 61-byte header, a system call and a
 * group-commit waiter each. Records of one partition keep their arrival order (one queue per
 * partition, batches appended in order), which keeps MQTT's ordered-topic rule. A batch is
 * fsynced (acks=all) when any of its records needs it (QoS 1). A batch the log refuses (one
 * record over the topic's max.message.bytes, say) is retried record by record, so only the bad
 * record fails (the others then land after records that arrived later): the log validates a
 * batch before writing any of it, so nothing is written twice.
 */
export class MqttBatchAppender {
  private readonly queues = new Map<string, { topic: string; partition: number; items: Pending[] }>();
  private scheduled = false;

  constructor(private readonly broker: Broker) {}

  /** Resolves once the record is in the log: written to the OS (`durable` false) or fsynced. */
  append(topic: string, partition: number, record: RecordInput, durable: boolean): Promise<void> {
    return new Promise((resolve, reject) => this.appendThen(topic, partition, record, durable, { appended: resolve, failed: reject }));
  }

  /** `append` telling `waiter` instead of settling a promise: the path of every QoS 0 and 1 PUBLISH. */
  appendThen(topic: string, partition: number, record: RecordInput, durable: boolean, waiter: AppendWaiter): void {
    const key = `${partition}:${topic}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = { topic, partition, items: [] };
      this.queues.set(key, queue);
    }
    queue.items.push({ record, durable, waiter });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const queues = [...this.queues.values()];
    this.queues.clear();
    for (const { topic, partition, items } of queues) {
      let builder = new RecordBatchBuilder({ initialCapacityBytes: 4096 });
      let members: Pending[] = [];
      for (const item of items) {
        if (members.length > 0 && (members.length >= MAX_BATCH_RECORDS || builder.sizeEstimate >= MAX_BATCH_BYTES)) {
          this.appendBatch(topic, partition, builder, members);
          builder = new RecordBatchBuilder({ initialCapacityBytes: 4096 });
          members = [];
        }
        try {
          builder.append(item.record);
        } catch (error) {
          item.waiter.failed(error);
          continue;
        }
        members.push(item);
      }
      if (members.length > 0) this.appendBatch(topic, partition, builder, members);
    }
  }

  /** Calls the broker synchronously, so batches of one partition land in the order they are appended here. */
  private appendBatch(topic: string, partition: number, builder: RecordBatchBuilder, members: Pending[]): void {
    const acks = members.some((m) => m.durable) ? Acks.all : Acks.leader;
    this.broker.appendBuilt(topic, partition, builder, acks).then(
      () => {
        for (const member of members) member.waiter.appended();
      },
      (error: unknown) => {
        if (members.length === 1) return members[0]!.waiter.failed(error);
        for (const member of members) this.appendOne(topic, partition, member);
      },
    );
  }

  private appendOne(topic: string, partition: number, member: Pending): void {
    const builder = new RecordBatchBuilder({ initialCapacityBytes: 256 });
    builder.append(member.record);
    this.broker.appendBuilt(topic, partition, builder, member.durable ? Acks.all : Acks.leader).then(
      () => member.waiter.appended(),
      (error: unknown) => member.waiter.failed(error),
    );
  }
}
