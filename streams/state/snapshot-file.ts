import type { StoreSnapshot } from './task-store.ts';

/** The changelog a snapshot was taken of: restore must not load a snapshot of another topic incarnation or partition. */
export interface SnapshotSource {
  readonly topicId: string;
  readonly partition: number;
}

export async function writeSnapshot(_dir: string, store: string, _snapshot: StoreSnapshot, _source: SnapshotSource): Promise<void> {
  throw new Error(`snapshots of store "${store}" arrive with the state layer`);
}

export async function readNewestSnapshot(_dir: string, store: string, _source: SnapshotSource): Promise<StoreSnapshot | undefined> {
  throw new Error(`snapshots of store "${store}" arrive with the state layer`);
}
