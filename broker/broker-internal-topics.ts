import type { Record } from '../sdk/record/record.ts';
import type { RecordBatchView } from '../sdk/record/record-batch-reader.ts';
import { Acks, type AcksValue } from './log/acks.ts';
import type { InternalTopics, InternalTopicSpec } from './internal-topics.ts';
import { replayPartition, type ReplaySource } from './replay-partition.ts';
import type { CreateTopicOptions } from './topic/topic-description.ts';

/** The broker operations internal topics are built on; `Broker` provides them. */
export interface InternalTopicsHost extends ReplaySource {
  hasTopic(name: string): boolean;
  topicLayout(name: string): { partitions: number };
  createTopic(name: string, options: CreateTopicOptions): Promise<{ partitions: readonly unknown[] }>;
  append(topic: string, partition: number, batches: Uint8Array, acks: AcksValue): Promise<unknown>;
}

/** `InternalTopics` over the broker's own topics: created through its admin queue, appended through its logs. */
export class BrokerInternalTopics implements InternalTopics {
  /** Creations in flight, one per topic; bounded by the internal topics there are. */
  private readonly creating = new Map<string, Promise<number>>();

  constructor(private readonly host: InternalTopicsHost) {}

  partitionCount(name: string): number | undefined {
    return this.host.hasTopic(name) ? this.host.topicLayout(name).partitions : undefined;
  }

  create(name: string, spec: InternalTopicSpec): Promise<number> {
    const count = this.partitionCount(name);
    if (count !== undefined) return Promise.resolve(count);
    let creating = this.creating.get(name);
    if (creating === undefined) {
      creating = this.host
        .createTopic(name, { partitions: spec.partitions, config: { ...spec.config } })
        .then((t) => t.partitions.length)
        .finally(() => this.creating.delete(name));
      this.creating.set(name, creating);
    }
    return creating;
  }

  async append(name: string, partition: number, batches: Uint8Array, acks: AcksValue = Acks.all): Promise<void> {
    await this.host.append(name, partition, batches, acks);
  }

  replay(name: string, partition: number, visit: (record: Record, batch: RecordBatchView) => void): Promise<void> {
    return replayPartition(this.host, name, partition, visit);
  }
}
