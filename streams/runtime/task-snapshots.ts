import type { Admin } from '../../sdk/client/admin/admin.ts';
import { readNewestSnapshot, writeSnapshot } from '../state/snapshot-file.ts';
import type { TaskStore } from '../state/task-store.ts';
import { type TaskId, taskIdText } from '../topology/processor.ts';
import type { TopologyLayout } from './internal-topics.ts';
import type { StateDirectory } from './state-directory.ts';
import type { TaskSnapshots } from './stream-thread.ts';
import type { ResolvedStreamsConfig } from './streams-config.ts';
import type { Task } from './task.ts';

interface Taken {
  offset: number;
  atMs: number;
}

/**
 * Snapshots of committed store state in the task directories. A store is snapshotted after a
 * commit once `snapshotIntervalMs` passed and `snapshotMinChangelogRecords` changelog records were
 * written since its last snapshot, in the background, one write per store at a time; a graceful
 * shutdown writes a last one of every store that moved, so the next start replays nothing. A new
 * task loads each store's newest valid snapshot written for the changelog topic as it is now (its
 * topic id), then the restore replays the changelog from the snapshot's offset.
 */
export class FileTaskSnapshots implements TaskSnapshots {
  private readonly taken = new Map<string, Taken>();
  private readonly writing = new Map<string, Promise<void>>();
  private readonly topicIds = new Map<string, string>();

  constructor(
    private readonly stateDir: StateDirectory,
    private readonly layout: TopologyLayout,
    private readonly admin: Admin,
    private readonly config: ResolvedStreamsConfig,
  ) {}

  private async topicId(topic: string): Promise<string> {
    let id = this.topicIds.get(topic);
    if (id === undefined) {
      const [described] = await this.admin.describeTopics([topic]);
      id = described!.topicId;
      this.topicIds.set(topic, id);
    }
    return id;
  }

  private static key(id: TaskId, store: string): string {
    return `${taskIdText(id)}/${store}`;
  }

  async load(task: Task, id: TaskId): Promise<void> {
    for (const [name, store] of task.taskStores()) {
      const topic = this.layout.changelogTopic(name);
      if (store.snapshot() === undefined) continue;
      const snapshot = await readNewestSnapshot(this.stateDir.taskDir(id), name, { topicId: await this.topicId(topic), partition: id.partition });
      if (snapshot === undefined) continue;
      store.loadSnapshot(snapshot);
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
    const topicId = await this.topicId(this.layout.changelogTopic(name));
    await writeSnapshot(this.stateDir.taskDir(id), name, snapshot, { topicId, partition: id.partition });
    this.taken.set(FileTaskSnapshots.key(id, name), { offset: snapshot.changelogOffset, atMs: Date.now() });
  }
}
