import { murmur2 } from '../../sdk/client/producer/partitioner.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { GlobalStoreSpec } from '../state/global-store-spec.ts';
import type { ReadOnlyKeyValueStore } from '../state/key-value-store.ts';
import type { StateStore } from '../state/state-store.ts';
import type { StoreSpec } from '../state/store-spec.ts';
import { innerOfTimestampedSerde } from '../state/value-and-timestamp.ts';
import { type TaskId, taskIdText } from '../topology/processor.ts';
import type { Topology } from '../topology/topology.ts';
import { AppState, type AppStateValue } from '../runtime/app-state.ts';
import type { TopologyLayout } from '../runtime/internal-topics.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';
import { type HostInfo, parseHostInfo } from './host-info.ts';
import type { QueryView } from './query-view.ts';

/** Kafka Streams' KIP-535 opt-in: also serve a task that is restoring, or suspended by a rebalance, and say so. */
export interface QueryOptions {
  readonly stale?: boolean;
}

/** Which instance holds a key of a store (Kafka Streams' `KeyQueryMetadata`). */
export interface KeyQueryMetadata {
  /** The instance whose active task holds the key; undefined while unknown (no assignment yet, or its owner advertises no endpoint). */
  readonly activeHost: HostInfo | undefined;
  /** Instances with a standby copy: always empty, this runtime keeps no standby tasks. */
  readonly standbyHosts: readonly HostInfo[];
  /** The store's partition (its task's partition) the key belongs to. */
  readonly partition: number;
}

/** One instance of the application and what it holds (Kafka Streams' `StreamsMetadata`). */
export interface StreamsMetadata {
  readonly hostInfo: HostInfo;
  /** The queryable stores of its active tasks. */
  readonly stateStoreNames: readonly string[];
  /** The source topic partitions of its active tasks. */
  readonly topicPartitions: readonly { readonly topic: string; readonly partition: number }[];
  /** Its active tasks, as `<subtopology>_<partition>`. */
  readonly tasks: readonly string[];
  readonly standbyStateStoreNames: readonly string[];
  readonly standbyTopicPartitions: readonly { readonly topic: string; readonly partition: number }[];
}

/** A global store as queries see it: a key-value store every instance holds whole. */
export type GlobalQueryableSpec = GlobalStoreSpec & { readonly kind: 'keyValue' };

/** A queryable store as the topology defines it: a task store of a sub-topology, or a global store. */
export type QueryableStoreInfo =
  | { readonly spec: StoreSpec; readonly subtopology: number; readonly global?: undefined }
  | { readonly spec: GlobalQueryableSpec; readonly global: true };

/** The partition Kafka Streams reports for a global store's keys: every instance holds every partition. */
export const GLOBAL_PARTITION = -1;

/** The stores one read goes to, and whether any of them is stale (not a running task of a running application). */
export interface ReadPlan {
  /** `partition` is GLOBAL_PARTITION for a global store. */
  readonly stores: readonly { readonly partition: number; readonly store: StateStore | ReadOnlyKeyValueStore<unknown, unknown> }[];
  readonly stale: boolean;
}

/** What interactive queries need of the running application. */
export interface QuerySource {
  readonly topology: Topology;
  state(): AppStateValue;
  view(): QueryView | undefined;
  layout(): TopologyLayout | undefined;
  /** The process's global store `name` (undefined before start, or with no such store). */
  globalStore(name: string): ReadOnlyKeyValueStore<unknown, unknown> | undefined;
  /** This instance's `applicationServer` endpoint, if it advertises one. */
  endpoint(): string | undefined;
}

/** Kafka Streams' generated names end in a ten-digit counter (`KSTREAM-AGGREGATE-STATE-STORE-0000000003`). */
const GENERATED_NAME = /-\d{10}$/;

/**
 * Kafka Streams' rule: a store is queryable when the topology names it (`Materialized` with a
 * name, or a store added by name to a Processor API topology). Stores with generated names and a
 * DSL operator's own stores (join windows, subscriptions, suppression buffers) are not.
 */
export function isQueryableStore(spec: StoreSpec): boolean {
  return spec.internal !== true && !GENERATED_NAME.test(spec.name);
}

/**
 * Read-only queries of the stores of a running application, and where each key lives.
 *
 * Reads go to the store as processing left it, write cache included, as Kafka Streams' interactive
 * queries do: a value shows as soon as the record that wrote it was processed, before its commit.
 * Under exactly-once a read may therefore see a write whose transaction then aborts (the store
 * goes back to its committed state and processing repeats). Each read is one synchronous pass over
 * the stores, so it sees them between two records, never halfway through one.
 *
 * A read is served only while the application is RUNNING and by a task this instance runs;
 * otherwise it fails with STORE_UNAVAILABLE (rebalancing, starting, a task restoring: retry) or
 * KEY_NOT_LOCAL (another instance holds the key: `queryMetadataForKey` says which). With
 * `{ stale: true }` (KIP-535) a task that restores or was suspended by a rebalance is read too.
 */
export class InteractiveQueries {
  private readonly stores = new Map<string, QueryableStoreInfo>();

  constructor(private readonly source: QuerySource) {
    for (const s of source.topology.subtopologies) {
      for (const spec of s.stores) if (isQueryableStore(spec)) this.stores.set(spec.name, { spec, subtopology: s.id });
    }
    // A global table named in the topology is queryable like a named table; one with a generated name is not.
    for (const spec of source.topology.globalStores.values()) if (!GENERATED_NAME.test(spec.name)) this.stores.set(spec.name, { spec: { ...spec, kind: 'keyValue' }, global: true });
  }

  /** The queryable stores' names, sorted. */
  storeNames(): string[] {
    return [...this.stores.keys()].sort();
  }

  /** The queryable store `name`, of `kind` when given; UNKNOWN_STATE_STORE or WRONG_STORE_TYPE otherwise. */
  store(name: string, kind?: StoreSpec['kind']): QueryableStoreInfo {
    const info = this.stores.get(name);
    if (info === undefined) {
      const known = this.storeNames();
      throw new StreamsError(StreamsErrorCode.unknownStateStore, `no queryable store named "${name}"; the queryable stores are ${known.length === 0 ? 'none (name a store with Materialized to query it)' : known.map((n) => `"${n}"`).join(', ')}`);
    }
    if (kind !== undefined && info.spec.kind !== kind) {
      throw new StreamsError(StreamsErrorCode.wrongStoreType, `store "${name}" is a ${kindText(info.spec.kind)} store, not a ${kindText(kind)} store`);
    }
    return info;
  }

  /** The partition `key` belongs to: the default partitioner's (murmur2 of the serialized key), as the store's inputs are partitioned. */
  partitionOf(info: QueryableStoreInfo, key: unknown): number {
    if (info.global === true) return GLOBAL_PARTITION;
    const layout = this.requireLayout();
    const tasks = layout.taskCounts.get(info.subtopology);
    if (tasks === undefined) throw new Error(`invariant: the layout has no task count for sub-topology ${info.subtopology}`);
    return (murmur2(serializeKey(info, key)) & 0x7fffffff) % tasks;
  }

  /** The stores to read for `key` (its partition's task) or, without one, every task of the store this instance holds. */
  plan(info: QueryableStoreInfo, key: { readonly key: unknown } | undefined, options: QueryOptions = {}): ReadPlan {
    const view = this.source.view();
    const state = this.source.state();
    const stale = options.stale === true;
    if (view === undefined || (!stale && state !== AppState.running)) {
      throw new StreamsError(StreamsErrorCode.storeUnavailable, `store "${info.spec.name}" cannot be read while the application is ${state}; retry once it is RUNNING`);
    }
    const appStale = state !== AppState.running;
    if (info.global === true) {
      const store = this.source.globalStore(info.spec.name);
      if (store === undefined) throw new Error(`invariant: a started application has no global store "${info.spec.name}"`);
      return { stores: [{ partition: GLOBAL_PARTITION, store }], stale: appStale };
    }
    if (key !== undefined) {
      const partition = this.partitionOf(info, key.key);
      const task = view.tasks.find((t) => t.id.subtopology === info.subtopology && t.id.partition === partition);
      if (task === undefined || (!stale && task.state === 'suspended')) {
        const owner = this.ownerOf(view, { subtopology: info.subtopology, partition });
        throw new StreamsError(StreamsErrorCode.keyNotLocal, `partition ${partition} of store "${info.spec.name}" is held by ${owner === undefined ? 'another instance (none advertises it)' : `the instance at ${owner}`}`);
      }
      if (!stale && task.state !== 'running') {
        throw new StreamsError(StreamsErrorCode.storeUnavailable, `partition ${partition} of store "${info.spec.name}" is restoring; retry once it runs`);
      }
      return { stores: [{ partition, store: storeOf(task.store(info.spec.name), info) }], stale: appStale || task.state !== 'running' };
    }
    const tasks = view.tasks.filter((t) => t.id.subtopology === info.subtopology && (stale || t.state !== 'suspended')).sort((a, b) => a.id.partition - b.id.partition);
    const restoring = tasks.find((t) => t.state !== 'running');
    if (!stale && restoring !== undefined) {
      throw new StreamsError(StreamsErrorCode.storeUnavailable, `partition ${restoring.id.partition} of store "${info.spec.name}" is restoring; retry once it runs`);
    }
    return { stores: tasks.map((t) => ({ partition: t.id.partition, store: storeOf(t.store(info.spec.name), info) })), stale: appStale || restoring !== undefined };
  }

  /** Which instance holds `key` of `storeName`. STORE_UNAVAILABLE before the application has its topics. */
  queryMetadataForKey(storeName: string, key: unknown): KeyQueryMetadata {
    const info = this.store(storeName);
    if (info.global === true) {
      // Every instance holds the whole store: this one answers (Kafka Streams says the same).
      serializeKey(info, key);
      const endpoint = this.source.endpoint();
      return { activeHost: endpoint === undefined ? undefined : parseHostInfo(endpoint), standbyHosts: [], partition: GLOBAL_PARTITION };
    }
    const partition = this.partitionOf(info, key);
    const view = this.source.view();
    const owner = view === undefined ? undefined : this.ownerOf(view, { subtopology: info.subtopology, partition });
    return { activeHost: owner === undefined ? undefined : parseHostInfo(owner), standbyHosts: [], partition };
  }

  /** Every instance that advertises an endpoint, with what it holds, from the last assignment (sorted by endpoint). */
  allMetadata(): StreamsMetadata[] {
    const view = this.source.view();
    const layout = this.source.layout();
    if (view === undefined || layout === undefined) return [];
    const metadata: StreamsMetadata[] = [];
    const globalNames = [...this.stores.values()].filter((info) => info.global === true).map((info) => info.spec.name);
    for (const [endpoint, held] of view.hosts) {
      const subtopologies = held.active.map((t) => this.source.topology.subtopologies[t.subtopology]).filter((s) => s !== undefined);
      metadata.push({
        hostInfo: parseHostInfo(endpoint),
        stateStoreNames: [...new Set([...subtopologies.flatMap((s) => s.stores.filter(isQueryableStore).map((st) => st.name)), ...globalNames])].sort(),
        topicPartitions: held.active.flatMap((t) => (this.source.topology.subtopologies[t.subtopology]?.sourceTopics ?? []).map((ref) => ({ topic: layout.topicName(ref), partition: t.partition }))),
        tasks: held.active.map(taskIdText),
        standbyStateStoreNames: [],
        standbyTopicPartitions: [],
      });
    }
    return metadata.sort((a, b) => (a.hostInfo.endpoint < b.hostInfo.endpoint ? -1 : 1));
  }

  /** The instances holding a partition of `storeName`. */
  allMetadataForStore(storeName: string): StreamsMetadata[] {
    this.store(storeName);
    return this.allMetadata().filter((m) => m.stateStoreNames.includes(storeName));
  }

  private ownerOf(view: QueryView, task: TaskId): string | undefined {
    for (const [endpoint, held] of view.hosts) if (held.active.some((t) => t.subtopology === task.subtopology && t.partition === task.partition)) return endpoint;
    return undefined;
  }

  private requireLayout(): TopologyLayout {
    const layout = this.source.layout();
    if (layout === undefined) throw new StreamsError(StreamsErrorCode.storeUnavailable, `the application is ${this.source.state()}: it knows its partitions once started`);
    return layout;
  }
}

function kindText(kind: StoreSpec['kind']): string {
  return kind === 'keyValue' ? 'key-value' : kind;
}

function storeOf(store: StateStore | undefined, info: QueryableStoreInfo & { subtopology: number }): StateStore {
  if (store === undefined) throw new Error(`invariant: a task of sub-topology ${info.subtopology} has no store "${info.spec.name}"`);
  return store;
}

/** The key's bytes in the store's key serde; a key the serde refuses is INVALID_QUERY. */
export function serializeKey(info: QueryableStoreInfo, key: unknown): Uint8Array {
  try {
    return info.spec.keySerde.serialize(key);
  } catch (error) {
    throw new StreamsError(StreamsErrorCode.invalidQuery, `store "${info.spec.name}" cannot serialize the key ${JSON.stringify(key) ?? String(key)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The serde of the values a query returns: the inner serde of a table's timestamped values. */
export function valueSerdeOf(spec: { readonly valueSerde: Serde<unknown> }): { serde: Serde<unknown>; timestamped: boolean } {
  const inner = innerOfTimestampedSerde(spec.valueSerde);
  return inner === undefined ? { serde: spec.valueSerde, timestamped: false } : { serde: inner, timestamped: true };
}
