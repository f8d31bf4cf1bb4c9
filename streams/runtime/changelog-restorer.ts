import type { Admin } from '../../sdk/client/admin/admin.ts';
import type { Consumer } from '../../sdk/client/consumer/consumer.ts';
import type { ConsumerBatch } from '../../sdk/client/consumer/consumer-types.ts';
import { tpKey } from '../../sdk/client/consumer/consumer-types.ts';
import { IsolationLevel } from '../../sdk/client/consumer/consumer-types.ts';
import type { ChangelogRecord, TaskStore } from '../state/task-store.ts';

/** A store to bring up to its changelog partition's end. */
export interface RestoreTarget {
  readonly topic: string;
  readonly partition: number;
  readonly store: TaskStore;
}

export interface RestoreProgress {
  /** Changelog records applied so far in this restore. */
  readonly replayed: number;
  /** Records left to reach the changelog ends (an upper bound: gaps and markers count). */
  readonly remaining: number;
}

/**
 * Catches stores up with their changelogs, from the offset each one's committed state covers
 * (a snapshot's, or where the store stood when its task was suspended) to the changelog's end as
 * read_committed readers see it. A store whose offset lies outside the changelog (the topic was
 * recreated, or its start moved past the store) is emptied and rebuilt from the start.
 */
export class ChangelogRestorer {
  /** One iteration over the restore consumer for its whole life; a batch awaited when a restore was aborted is taken by the next. */
  private iterator: AsyncGenerator<ConsumerBatch<Uint8Array, Uint8Array>, void, undefined> | undefined;
  private next: Promise<IteratorResult<ConsumerBatch<Uint8Array, Uint8Array>, void>> | undefined;

  constructor(
    private readonly consumer: Consumer<Uint8Array, Uint8Array>,
    private readonly admin: Admin,
  ) {}

  /** The next batch, or undefined when `signal` aborts first. */
  private nextBatch(signal: AbortSignal | undefined): Promise<IteratorResult<ConsumerBatch<Uint8Array, Uint8Array>, void> | undefined> {
    this.iterator ??= this.consumer.batches({ includeEmpty: true });
    this.next ??= this.iterator.next();
    if (signal === undefined) return this.next;
    return new Promise((resolve, reject) => {
      const abort = (): void => resolve(undefined);
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      this.next!.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    });
  }

  /**
   * Restores `targets`; resolves early (with what was done) when `signal` aborts: the stores keep
   * the offsets they reached, so a later restore continues from there.
   */
  async restore(targets: readonly RestoreTarget[], onProgress?: (progress: RestoreProgress) => void, signal?: AbortSignal): Promise<RestoreProgress> {
    const bounds = new Map<string, { earliest: number; latest: number }>();
    for (const topic of new Set(targets.map((t) => t.topic))) {
      for (const o of await this.admin.topicOffsets(topic, IsolationLevel.readCommitted)) bounds.set(tpKey(topic, o.partition), o);
    }
    const active = new Map<string, { target: RestoreTarget; end: number }>();
    let remaining = 0;
    for (const target of targets) {
      const bound = bounds.get(tpKey(target.topic, target.partition));
      if (bound === undefined) throw new Error(`invariant: changelog ${target.topic}-${target.partition} has no offsets`);
      let from = target.store.changelogOffset;
      if (from > bound.latest || from < bound.earliest) {
        target.store.loadSnapshot({ changelogOffset: bound.earliest, entryCount: 0, entries: () => [][Symbol.iterator]() });
        from = bound.earliest;
      }
      if (from >= bound.latest) continue;
      active.set(tpKey(target.topic, target.partition), { target, end: bound.latest });
      remaining += bound.latest - from;
    }
    let replayed = 0;
    if (active.size === 0) return { replayed, remaining: 0 };
    const assign = (): void => this.consumer.assign([...active.values()].map(({ target }) => ({ topic: target.topic, partition: target.partition, offset: target.store.changelogOffset })));
    assign();
    try {
      while (active.size > 0) {
        const result = await this.nextBatch(signal);
        if (result === undefined) return { replayed, remaining };
        this.next = undefined;
        if (result.done === true) throw new Error('the restore consumer closed during a restore');
        const batch = result.value;
        const key = tpKey(batch.topic, batch.partition);
        const entry = active.get(key);
        if (entry === undefined) continue;
        const records: ChangelogRecord[] = [];
        for (const r of batch.records) {
          if (r.offset >= entry.end) break;
          if (r.key === null) throw new Error(`changelog ${batch.topic}-${batch.partition} holds a record without a key at offset ${r.offset}`);
          records.push({ offset: r.offset, key: r.key, value: r.value });
        }
        const position = Math.min(this.consumer.position({ topic: batch.topic, partition: batch.partition }) ?? entry.end, entry.end);
        const before = entry.target.store.changelogOffset;
        entry.target.store.restore(records, position);
        replayed += records.length;
        remaining -= position - before;
        onProgress?.({ replayed, remaining });
        if (position >= entry.end) {
          active.delete(key);
          if (active.size > 0) assign();
        }
      }
    } finally {
      this.consumer.assign([]);
    }
    return { replayed, remaining: 0 };
  }
}
