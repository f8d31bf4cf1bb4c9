import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import { IsolationLevel, type TopicPartition, tpKey } from '../../sdk/client/consumer/consumer-types.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import type { GlobalKeyValueStore } from '../state/global-key-value-store.ts';
import { globalSnapshotOf, globalStateOf } from '../state/global-snapshot.ts';
import { SnapshotDirectory } from '../state/snapshot-directory.ts';
import type { GlobalStores } from './global-stores.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';

/** Kafka's default delete.retention.ms: tombstones live at least this long in a compacted topic. */
const DEFAULT_DELETE_RETENTION_MS = 86_400_000;

/** Where and how often the reader snapshots its stores. */
export interface GlobalSnapshotOptions {
  /** One directory per store below it (`<stateDir>/<applicationId>/global/<store>/`). */
  readonly dir: string;
  /** A store is snapshotted once this long passed and `minRecords` records were applied since its last snapshot. */
  readonly intervalMs: number;
  readonly minRecords: number;
}

/** Where reading starts on one partition of a global topic, and the end its restore reaches. */
interface PartitionPlan extends TopicPartition {
  readonly start: number;
  readonly latest: number;
}

/** One global store as the reader keeps it: where it stands in its topic, and its snapshots. */
interface TopicState {
  readonly topic: string;
  readonly store: GlobalKeyValueStore<unknown, unknown>;
  /** Next offset to read per partition: what the store covers. */
  positions: Map<number, number>;
  directory: SnapshotDirectory | undefined;
  appliedSinceSnapshot: number;
  lastSnapshotMs: number;
  /** Sum of the positions the last snapshot (written or loaded) covers; -1 without one. */
  snapshotSum: number;
  writing: Promise<void> | undefined;
}

/**
 * The process's reader of its global stores' topics (Kafka Streams' global stream thread): one
 * consumer outside any group, assigned every partition of every global topic, read_committed.
 *
 * `prepare()` checks the topics, takes each partition's first offset and its end as read_committed
 * readers see it (the last stable offset), and loads each store's newest valid snapshot
 * (streams/state/global-snapshot.ts) when every position it covers lies within the partition's
 * offsets now and it is younger than the topic's `delete.retention.ms` (older, compaction may have
 * removed tombstones of keys deleted since); otherwise the store is rebuilt from the first offsets.
 * `run()` reads each partition from there; once every partition reached the end `prepare()` saw,
 * `onRestored` is called, and the reader goes on applying new records as they come until
 * `stop()`. Snapshots are written in the background after batches (see GlobalSnapshotOptions), and
 * a last one when the reader stops.
 */
export class GlobalStateReader {
  private readonly consumer: Consumer<Uint8Array, Uint8Array>;
  private readonly states = new Map<string, TopicState>();
  private plan: PartitionPlan[] | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly stores: GlobalStores,
    transport: Transport,
    private readonly admin: Admin,
    maxPrefetchBytes: number,
    private readonly snapshots?: GlobalSnapshotOptions,
  ) {
    this.consumer = new Consumer(transport, { isolationLevel: 'read_committed', autoOffsetReset: 'earliest', maxWaitMs: 100, maxPrefetchBytes });
  }

  /** Checks that every global topic exists, takes the offsets the restore goes from and to, and loads snapshots. */
  async prepare(): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const plan: PartitionPlan[] = [];
    for (const topic of this.stores.topics()) {
      if (!existing.has(topic)) throw new StreamsError(StreamsErrorCode.topicMismatch, `global table topic "${topic}" does not exist; create it before starting the application`);
      const offsets = await this.admin.topicOffsets(topic, IsolationLevel.readCommitted);
      const state: TopicState = {
        topic,
        store: this.stores.storeOfTopic(topic),
        positions: new Map(offsets.map((o) => [o.partition, o.earliest])),
        directory: undefined,
        appliedSinceSnapshot: 0,
        lastSnapshotMs: Date.now(),
        snapshotSum: -1,
        writing: undefined,
      };
      if (this.snapshots !== undefined) await this.loadSnapshot(state, offsets, this.snapshots.dir);
      this.states.set(topic, state);
      for (const o of offsets) plan.push({ topic, partition: o.partition, start: state.positions.get(o.partition)!, latest: o.latest });
    }
    this.plan = plan;
  }

  private async loadSnapshot(state: TopicState, offsets: readonly { partition: number; earliest: number; latest: number }[], dir: string): Promise<void> {
    const [described] = await this.admin.describeTopics([state.topic]);
    const configs = await this.admin.describeTopicConfigs(state.topic, ['delete.retention.ms']);
    const retention = Number(configs['delete.retention.ms'] ?? DEFAULT_DELETE_RETENTION_MS);
    const directory = new SnapshotDirectory(join(dir, state.store.name), { changelogTopicId: described!.topicId, partition: offsets.length });
    state.directory = directory;
    const { snapshot } = await directory.loadNewest();
    if (snapshot === undefined) return;
    const ageMs = Date.now() - statSync(join(directory.path, `${String(snapshot.changelogOffset).padStart(20, '0')}.snapshot`)).mtimeMs;
    const loaded = globalStateOf(snapshot);
    const usable =
      ageMs <= (Number.isFinite(retention) ? retention : DEFAULT_DELETE_RETENTION_MS) &&
      typeof loaded !== 'string' &&
      offsets.every((o) => {
        const position = loaded.positions.get(o.partition);
        return position !== undefined && position >= o.earliest && position <= o.latest;
      });
    if (!usable || typeof loaded === 'string') {
      // The store is rebuilt from the first offsets; older snapshots are of no more use than this one.
      rmSync(directory.path, { recursive: true, force: true });
      return;
    }
    await state.store.load(loaded.keys, loaded.values);
    state.positions = new Map(loaded.positions);
    state.snapshotSum = snapshot.changelogOffset;
  }

  /**
   * Restores the stores from their topics, calls `onRestored`, then keeps them up to date. Resolves
   * once `stop()` ended the reading (after a last snapshot), rejects with what made it fail (a
   * record the policy does not skip, a fetch that failed for good).
   */
  async run(onRestored: () => void): Promise<void> {
    const plan = this.plan;
    if (plan === undefined) throw new Error('invariant: the global state reader runs after prepare()');
    const pending = new Map<string, number>();
    for (const p of plan) if (p.latest > p.start) pending.set(tpKey(p.topic, p.partition), p.latest);
    let restored = false;
    const checkRestored = (): void => {
      if (restored || pending.size > 0) return;
      restored = true;
      onRestored();
    };
    checkRestored();
    if (this.closing !== undefined) return;
    this.consumer.assign(plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.start })));
    for await (const batch of this.consumer.batches({ includeEmpty: true })) {
      const state = this.states.get(batch.topic)!;
      for (const record of batch.records) this.stores.apply({ topic: batch.topic, partition: batch.partition, offset: record.offset, key: record.key, value: record.value });
      const position = this.consumer.position(batch) ?? 0;
      state.positions.set(batch.partition, position);
      state.appliedSinceSnapshot += batch.records.length;
      this.maybeSnapshot(state);
      if (restored) continue;
      const key = tpKey(batch.topic, batch.partition);
      const end = pending.get(key);
      if (end !== undefined && position >= end) {
        pending.delete(key);
        checkRestored();
      }
    }
    for (const state of this.states.values()) {
      await state.writing;
      if (positionSum(state) !== state.snapshotSum) await this.snapshot(state);
    }
  }

  private maybeSnapshot(state: TopicState): void {
    const options = this.snapshots;
    if (options === undefined || state.writing !== undefined) return;
    if (Date.now() - state.lastSnapshotMs < options.intervalMs || state.appliedSinceSnapshot < options.minRecords) return;
    state.writing = this.snapshot(state)
      .catch(() => undefined)
      .finally(() => (state.writing = undefined));
  }

  /** Writes the store's state as of now (taken synchronously, so state and positions agree). */
  private async snapshot(state: TopicState): Promise<void> {
    if (state.directory === undefined) return;
    const snapshot = globalSnapshotOf(state.store.ordered(), state.positions);
    state.appliedSinceSnapshot = 0;
    state.lastSnapshotMs = Date.now();
    const written = await state.directory.write(snapshot);
    if (written !== undefined) state.snapshotSum = written.changelogOffset;
  }

  /** Ends the reading (a restore in progress too); `run()` then resolves. */
  stop(): Promise<void> {
    this.closing ??= this.consumer.close();
    return this.closing;
  }
}

function positionSum(state: TopicState): number {
  let sum = 0;
  for (const offset of state.positions.values()) sum += offset;
  return sum;
}
