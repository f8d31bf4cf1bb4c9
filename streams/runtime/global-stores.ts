import type { FailurePolicy } from './failure-policy.ts';
import { GlobalKeyValueStore } from '../state/global-key-value-store.ts';
import type { GlobalStoreSpec } from '../state/global-store-spec.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';

/** One record of a global store's topic, as read. */
export interface GlobalRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}

/**
 * A process's global stores, by name and by topic, and how a record of their topics is applied
 * (the same in the runtime and the test driver): a record without a key is skipped, as a table
 * skips it; one whose key or value the store's serdes refuse stops the application (a
 * `StreamsError` RECORD_FAILED) unless the deserialization failure policy is 'skip' or 'dlq', when
 * it is skipped and counted. Global records are never dead-lettered: the reader has no producer,
 * and its reads are not part of any task's transaction.
 */
export class GlobalStores {
  private readonly byName = new Map<string, GlobalKeyValueStore<unknown, unknown>>();
  private readonly byTopic = new Map<string, GlobalKeyValueStore<unknown, unknown>>();

  constructor(
    specs: Iterable<GlobalStoreSpec>,
    private readonly failures: FailurePolicy,
    private readonly onSkipped: () => void,
  ) {
    for (const spec of specs) {
      const store = new GlobalKeyValueStore<unknown, unknown>(spec);
      this.byName.set(spec.name, store);
      this.byTopic.set(spec.topic, store);
    }
  }

  get size(): number {
    return this.byName.size;
  }

  /** The topics the stores are read from. */
  topics(): string[] {
    return [...this.byTopic.keys()];
  }

  reads(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  store(name: string): GlobalKeyValueStore<unknown, unknown> | undefined {
    return this.byName.get(name);
  }

  storeOfTopic(topic: string): GlobalKeyValueStore<unknown, unknown> {
    const store = this.byTopic.get(topic);
    if (store === undefined) throw new Error(`invariant: no global store reads topic "${topic}"`);
    return store;
  }

  apply(record: GlobalRecord): void {
    const store = this.byTopic.get(record.topic);
    if (store === undefined) throw new Error(`invariant: no global store reads topic "${record.topic}"`);
    if (record.key === null) return;
    try {
      store.apply(record.key, record.value);
    } catch (error) {
      if ((this.failures.deserialization ?? 'fail') !== 'fail') {
        this.onSkipped();
        return;
      }
      throw new StreamsError(
        StreamsErrorCode.recordFailed,
        `global store "${store.name}": the record of ${record.topic}-${record.partition} at offset ${record.offset} failed to deserialize: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}
