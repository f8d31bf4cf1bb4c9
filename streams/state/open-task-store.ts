import type { StoreSpec } from './store-spec.ts';
import type { TaskStore } from './task-store.ts';

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
}

/** The task's instance of the store `spec` describes, empty (restore fills it). */
export function openTaskStore(spec: StoreSpec, _env: StoreEnvironment): TaskStore {
  throw new Error(`store "${spec.name}": the state layer is under construction`);
}
