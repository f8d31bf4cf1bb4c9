import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from '../../sdk/client/admin/admin.ts';
import { SnapshotDirectory } from '../state/snapshot-directory.ts';
import type { TaskStore } from '../state/task-store.ts';
import { type TaskId, taskIdText } from '../topology/processor.ts';
import type { TopologyLayout } from './internal-topics.ts';
import type { StateDirectory } from './state-directory.ts';
import type { TaskSnapshots } from './stream-thread.ts';
import type { ResolvedStreamsConfig } from './streams-config.ts';
import type { Task } from './task.ts';

/** Kafka's default delete.retention.ms: tombstones live at least this long in a compacted changelog. */
const DEFAULT_DELETE_RETENTION_MS = 86_400_000;

interface Taken {
  offset: number;
  atMs: number;
}

/**
 * Snapshots of committed store state, per store under its task directory
 * (`<stateDir>/<applicationId>/<task>/<store>/`, streams/state/snapshot-directory.ts). A store is
 * snapshotted after a commit once `snapshotIntervalMs` passed and `snapshotMinChangelogRecords`
 * changelog records were written since its last snapshot, in the background, one write per store at
 * a time; a graceful shutdown writes a last one of every store that moved, so the next start
 * replays nothing. A new task loads each store's newest valid snapshot written for the changelog
 * topic as it is now (its topic id), then the restore replays the changelog from the snapshot's
 * offset. A snapshot older than the changelog's `delete.retention.ms` is not used: compaction may
 * have removed tombstones of keys deleted since, which a replay from it would bring back.
 */
export class FileTaskSnapshots implements TaskSnapshots {
  private readonly taken = new Map<string, Taken>();
  private readonly writing = new Map<string, Promise<void>>();
  private readonly directories = new Map<string, SnapshotDirectory>();
  private readonly topics = new Map<string, { topicId: string; deleteRetentionMs: number }>();

  constructor(
    private readonly stateDir: StateDirectory,
    private readonly layout: TopologyLayout,
    private readonly admin: Admin,
    private readonly config: ResolvedStreamsConfig,
  ) {}

  private async changelog(store: string): Promise<{ topicId: string; deleteRetentionMs: number }> {
    const topic = this.layout.changelogTopic(store);
    let known = this.topics.get(topic);
    if (known === undefined) {
      const [described] = await this.admin.describeTopics([topic]);
      const configs = await this.admin.describeTopicConfigs(topic, ['delete.retention.ms']);
      const retention = Number(configs['delete.retention.ms'] ?? DEFAULT_DELETE_RETENTION_MS);
      known = { topicId: described!.topicId, deleteRetentionMs: Number.isFinite(retention) ? retention : DEFAULT_DELETE_RETENTION_MS };
      this.topics.set(topic, known);
    }
    return known;
  }

  private static key(id: TaskId, store: string): string {
    return `${taskIdText(id)}/${store}`;
  }

  private async directory(id: TaskId, store: string): Promise<SnapshotDirectory> {
    const key = FileTaskSnapshots.key(id, store);
    let directory = this.directories.get(key);
    if (directory === undefined) {
      const { topicId } = await this.changelog(store);
      directory = new SnapshotDirectory(join(this.stateDir.taskDir(id), store), { changelogTopicId: topicId, partition: id.partition });
      this.directories.set(key, directory);
    }
    return directory;
  }

  async load(task: Task, id: TaskId): Promise<void> {
    for (const [name, store] of task.taskStores()) {
      if (store.snapshot() === undefined) continue;
      const directory = await this.directory(id, name);
      const { snapshot } = await directory.loadNewest();
      if (snapshot === undefined) continue;
      const file = join(directory.path, `${String(snapshot.changelogOffset).padStart(20, '0')}.snapshot`);
      const ageMs = Date.now() - statSync(file).mtimeMs;
      if (ageMs > (await this.changelog(name)).deleteRetentionMs) continue;
      await store.loadSnapshot(snapshot);
      this.taken.set(FileTaskSnapshots.key(id, name), { offset: snapshot.changelogOffset, atMs: Date.now() });
    }
  }

  afterCommit(tasks: readonly Task[]): void {
    const nowMs = Date.now();
    for (const task of tasks) {
      for (const [name, store] of task.taskStores()) {
        const key = FileTaskSnapshots.key(task.id, name);
        if (this.writing.has(key)) continue;
        const last = this.taken.get(key) ?? { offset: 0, atMs: 0 };
        if (nowMs - last.atMs < this.config.snapshotIntervalMs || store.changelogOffset - last.offset < this.config.snapshotMinChangelogRecords) continue;
        const write = this.write(task.id, name, store)
          .catch(() => undefined)
          .finally(() => this.writing.delete(key));
        this.writing.set(key, write);
      }
    }
  }

  async finish(tasks: readonly Task[]): Promise<void> {
    await Promise.all(this.writing.values());
    for (const task of tasks) {
      for (const [name, store] of task.taskStores()) {
        const last = this.taken.get(FileTaskSnapshots.key(task.id, name));
        if (store.changelogOffset > (last?.offset ?? 0)) await this.write(task.id, name, store);
      }
    }
  }

  private async write(id: TaskId, name: string, store: TaskStore): Promise<void> {
    const snapshot = store.snapshot();
    if (snapshot === undefined) return;
    const written = await (await this.directory(id, name)).write(snapshot);
    if (written !== undefined) this.taken.set(FileTaskSnapshots.key(id, name), { offset: written.changelogOffset, atMs: Date.now() });
  }
}
