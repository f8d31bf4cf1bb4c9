import { KeyValueTaskStore } from './key-value-task-store.ts';
import type { StoreSpec } from './store-spec.ts';
import type { TaskStore } from './task-store.ts';
import { WindowTaskStore } from './window-task-store.ts';
import { SessionTaskStore } from './session-task-store.ts';

/** A changelog record a store writes at commit: the key's new value, null when it was deleted. */
export interface ChangelogWrite {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
  readonly timestamp: number;
  readonly headers: readonly never[];
}

/** Where a task's store writes its changelog, and which partition it serves. */
export interface StoreEnvironment {
  readonly partition: number;
  writeChangelog(record: ChangelogWrite): void;
  /** The timestamp of the changelog records a flush writes (the runtime passes the task's stream time). */
  changelogTimestampMs(): number;
}

/**
 * The task's instance of the store `spec` describes, empty (restore fills it).
 *
 * Every store, cached or not, holds its writes until the commit (one changelog record per changed
 * key per commit, and an aborted transaction leaves committed state untouched). `spec.cached`
 * decides who forwards a KTable's updates: a cached store tells its flush listener the latest
 * change per key at `prepareCommit`; an uncached one refuses the listener (`setFlushListener`
 * returns false), and the processor writing it forwards every update as it makes it, which is
 * what Kafka Streams does without caching.
 */
export function openTaskStore(spec: StoreSpec, env: StoreEnvironment): TaskStore {
  switch (spec.kind) {
    case 'keyValue':
      return new KeyValueTaskStore(spec, env);
    case 'window':
      return new WindowTaskStore(spec, env);
    case 'session':
      return new SessionTaskStore(spec, env);
  }
}
