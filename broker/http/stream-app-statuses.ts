import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { IsolationLevel } from '../fetch/fetch-types.ts';
import type { Broker } from '../broker.ts';
import { STALE_AFTER_INTERVALS, type StreamsStatus, applicationIdOfStatusTopic, decodeStatus } from '../../streams/runtime/status-record.ts';

/** An instance's latest status, with the broker's time it was appended (the topic is LogAppendTime). */
export interface InstanceStatus {
  readonly status: StreamsStatus;
  readonly appendedMs: number;
}

interface TopicCache {
  nextOffset: number;
  readonly instances: Map<string, InstanceStatus>;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
/** Bytes one catch-up reads per status topic at most; the next request reads on. */
const MAX_CATCH_UP_BYTES = 8 * 1024 * 1024;
const FETCH_BYTES = 1024 * 1024;
/** Instances remembered per application at most: each is one key of a compacted topic, so more means someone writes junk keys. */
const MAX_INSTANCES_PER_APP = 1024;
/** Applications (status topics) cached at most; beyond it the least recently read is dropped and read again when asked for. */
const MAX_CACHED_APPS = 1024;

/**
 * What the broker knows of running streams applications: the status records their instances
 * publish to `<applicationId>-streams-status` (streams/runtime/status-record.ts). Each status
 * topic is read incrementally from where the last request stopped, keeping the latest valid status
 * per instance key (a tombstone removes it; a record that is not a status of that application
 * and instance is ignored). The broker never writes these topics: it only reads what the
 * applications say of themselves.
 */
export class StreamAppStatuses {
  private readonly cache = new Map<string, TopicCache>();

  constructor(private readonly broker: Broker) {}

  /** The application ids that have a status topic. */
  applicationIds(): string[] {
    return this.broker
      .listTopics()
      .map((topic) => applicationIdOfStatusTopic(topic))
      .filter((id): id is string => id !== undefined)
      .sort();
  }

  /** The latest status of each instance of `applicationId`, read up to the topic's end now. */
  async instances(applicationId: string): Promise<InstanceStatus[]> {
    const topic = `${applicationId}-streams-status`;
    if (!this.broker.hasTopic(topic)) {
      this.cache.delete(topic);
      return [];
    }
    let cached = this.cache.get(topic);
    if (cached === undefined) {
      cached = { nextOffset: 0, instances: new Map() };
      if (this.cache.size >= MAX_CACHED_APPS) this.cache.delete(this.cache.keys().next().value!);
    } else {
      this.cache.delete(topic);
    }
    this.cache.set(topic, cached);
    await this.catchUp(applicationId, topic, cached);
    return [...cached.instances.values()];
  }

  private async catchUp(applicationId: string, topic: string, cached: TopicCache): Promise<void> {
    let bytes = 0;
    while (bytes < MAX_CATCH_UP_BYTES) {
      const [result] = await this.broker.fetch({
        partitions: [{ topic, partition: 0, fetchOffset: cached.nextOffset, partitionMaxBytes: FETCH_BYTES }],
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: FETCH_BYTES,
        isolationLevel: IsolationLevel.readUncommitted,
      });
      if (result === undefined) throw new Error(`invariant broken: a fetch of ${topic}-0 returned no partition`);
      if (result.error !== undefined) {
        // Retention or a recreated topic moved the log under the cache: read it again from its start.
        if (result.error.errorName !== 'OFFSET_OUT_OF_RANGE' || cached.nextOffset === result.logStartOffset) throw result.error;
        cached.instances.clear();
        cached.nextOffset = result.logStartOffset;
        continue;
      }
      if (result.records.byteLength === 0) return;
      bytes += result.records.byteLength;
      const before = cached.nextOffset;
      for (const batch of readRecordBatches(result.records)) {
        if (!batch.isControl) {
          for (const record of batch.records()) {
            if (record.offset < cached.nextOffset || record.key === null) continue;
            this.apply(applicationId, cached, record.key, record.value, record.timestamp);
          }
        }
        cached.nextOffset = Math.max(cached.nextOffset, batch.lastOffset + 1);
      }
      if (cached.nextOffset === before || cached.nextOffset >= result.highWatermark) return;
    }
  }

  private apply(applicationId: string, cached: TopicCache, keyBytes: Uint8Array, value: Uint8Array | null, timestampMs: number): void {
    let instanceId: string;
    try {
      instanceId = decoder.decode(keyBytes);
    } catch {
      return;
    }
    if (value === null) return void cached.instances.delete(instanceId);
    const status = decodeStatus(applicationId, instanceId, value);
    if (status === undefined) return;
    if (!cached.instances.has(instanceId) && cached.instances.size >= MAX_INSTANCES_PER_APP) return;
    cached.instances.set(instanceId, { status, appendedMs: timestampMs });
  }
}

/** Whether an instance stopped heartbeating: its latest status is older than `STALE_AFTER_INTERVALS` of its intervals. */
export function isStale(instance: InstanceStatus, nowMs: number): boolean {
  return nowMs - instance.appendedMs > STALE_AFTER_INTERVALS * instance.status.intervalMs;
}
