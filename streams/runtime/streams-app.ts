import { join } from 'node:path';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { retrying } from '../../sdk/client/retry.ts';
import type { Topology } from '../topology/topology.ts';
import { AppState, type AppStateValue, transition } from './app-state.ts';
import { prepareTopics } from './internal-topics.ts';
import { StateDirectory } from './state-directory.ts';
import { StreamThread } from './stream-thread.ts';
import { resolveStreamsConfig, type ResolvedStreamsConfig, type StreamsConfig } from './streams-config.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';
import { StreamsMetrics, type StreamsMetricsSnapshot } from './streams-metrics.ts';
import { FileTaskSnapshots } from './task-snapshots.ts';
import { TRANSIENT_RETRY } from './transient-retry.ts';
import { GlobalStateReader } from './global-state-reader.ts';
import { GlobalStores } from './global-stores.ts';
import type { TopologyLayout } from './internal-topics.ts';
import { InteractiveQueries, type KeyQueryMetadata, type QueryOptions, type StreamsMetadata } from '../query/interactive-queries.ts';
import { KeyValueStoreQuery, SessionStoreQuery, WindowStoreQuery } from '../query/store-queries.ts';
import { parseHostInfo } from '../query/host-info.ts';
import { taskIdText } from '../topology/processor.ts';
import { deadLetterTopic } from './failure-policy.ts';
import { StatusPublisher } from './status-publisher.ts';
import { statusTopology } from './status-topology.ts';

export type StateListener = (newState: AppStateValue, oldState: AppStateValue) => void;

/**
 * A running stream-processing application: one process of `applicationId`. Start more processes
 * with the same id (and their own state directories) to spread its tasks; they form one group.
 *
 * ```ts
 * const app = new StreamsApp(builder.build(), { applicationId: 'orders-v1', transport });
 * await app.start();        // topics checked and created, the group joined
 * ...
 * await app.close();        // a last commit, then the group is left
 * ```
 */
export class StreamsApp {
  private readonly config: ResolvedStreamsConfig;
  private readonly holder: { state: AppStateValue } = { state: AppState.created };
  private readonly listeners = new Set<StateListener>();
  private readonly metricsCounters: StreamsMetrics;
  private thread: StreamThread | undefined;
  private global: GlobalStateReader | undefined;
  private globalStores: GlobalStores | undefined;
  private closeRequested = false;
  private stateDir: StateDirectory | undefined;
  private runLoop: Promise<void> | undefined;
  private failure: unknown = undefined;
  private closing: Promise<void> | undefined;
  private settled!: { resolve: () => void; reject: (error: unknown) => void };
  private layout: TopologyLayout | undefined;
  private applicationServer: string | undefined;
  private readonly queries: InteractiveQueries;
  private statusPublisher: StatusPublisher | undefined;
  /** Settles when the application stopped: resolves after `close()`, rejects with what made it fail. */
  readonly stopped: Promise<void>;

  constructor(
    private readonly topology: Topology,
    config: StreamsConfig,
  ) {
    this.config = resolveStreamsConfig(config);
    this.metricsCounters = new StreamsMetrics(this.config.applicationId);
    this.applicationServer = this.config.applicationServer;
    this.queries = new InteractiveQueries({
      topology,
      state: () => this.holder.state,
      view: () => this.thread?.queryView(),
      layout: () => this.layout,
      globalStore: (name) => this.globalStores?.store(name),
      endpoint: () => this.applicationServer,
    });
    this.stopped = new Promise<void>((resolve, reject) => (this.settled = { resolve, reject }));
    this.stopped.catch(() => undefined);
  }

  get state(): AppStateValue {
    return this.holder.state;
  }

  /** What stopped the application when it is in ERROR. */
  get error(): unknown {
    return this.failure;
  }

  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private moveTo(to: AppStateValue): void {
    if (this.holder.state === to && to !== AppState.rebalancing) return;
    const from = transition(this.holder, to);
    this.statusPublisher?.requestPublish();
    for (const listener of this.listeners) listener(to, from);
  }

  /** Resolves once the application is in `state` (or rejects when it stops first). */
  waitFor(state: AppStateValue): Promise<void> {
    if (this.holder.state === state) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const off = this.onStateChange((now) => {
        if (now === state) {
          off();
          resolve();
        } else if (now === AppState.error || now === AppState.notRunning) {
          off();
          reject(this.failure ?? new StreamsError(StreamsErrorCode.fatal, `the application stopped (${now}) before reaching ${state}`));
        }
      });
    });
  }

  /**
   * Checks the source topics, creates or checks the internal topics, locks the state directory and
   * starts processing. Rejects (and leaves the application in ERROR) when any of it fails.
   */
  async start(): Promise<void> {
    if (this.holder.state !== AppState.created) throw new StreamsError(StreamsErrorCode.invalidConfig, `start() is for a new application; this one is ${this.holder.state}`);
    try {
      this.stateDir = StateDirectory.open(this.config.stateDir, this.config.applicationId, this.config.instanceId);
      const admin = new Admin(this.config.transport);
      const layout = await retrying(() => prepareTopics(admin, this.topology, this.config.applicationId, this.config.deadLetterPartitions), TRANSIENT_RETRY);
      this.layout = layout;
      const snapshots = new FileTaskSnapshots(this.stateDir, layout, admin, this.config);
      const globals = new GlobalStores(this.topology.globalStores.values(), this.config.failures, () => this.metricsCounters.recordsSkipped++);
      this.globalStores = globals;
      if (globals.size > 0) {
        const global = new GlobalStateReader(globals, this.config.transport, admin, this.config.maxPrefetchBytes, {
          dir: join(this.stateDir.path, 'global'),
          intervalMs: this.config.snapshotIntervalMs,
          minRecords: this.config.snapshotMinChangelogRecords,
        });
        this.global = global;
        await retrying(() => global.prepare(), TRANSIENT_RETRY);
      }
      this.thread = new StreamThread(this.topology, { ...this.config, applicationServer: this.applicationServer }, layout, admin, this.stateDir.instanceId, this.metricsCounters, snapshots, {
        rebalancing: () => {
          if (this.holder.state === AppState.created || this.holder.state === AppState.running) this.moveTo(AppState.rebalancing);
        },
        running: () => {
          if (this.holder.state === AppState.rebalancing) this.moveTo(AppState.running);
        },
      }, globals.size > 0 ? (name) => globals.store(name) : undefined);
      this.startStatusPublisher(this.thread, this.stateDir.instanceId);
    } catch (error) {
      await this.global?.stop();
      this.stateDir?.close();
      this.failure = error;
      this.moveTo(AppState.pendingError);
      this.moveTo(AppState.error);
      this.settled.reject(error);
      throw error;
    }
    this.runLoop = this.run(this.thread).then(
      () => undefined,
      (error: unknown) => this.stopWithError(error),
    );
  }

  /** Publishes this instance's status (status-publisher.ts) unless `statusIntervalMs` is 0; it never fails the application. */
  private startStatusPublisher(thread: StreamThread, instanceId: string): void {
    if (this.config.statusIntervalMs === 0) return;
    this.statusPublisher = new StatusPublisher({
      transport: this.config.transport,
      applicationId: this.config.applicationId,
      instanceId,
      endpoint: this.applicationServer,
      guarantee: this.config.guarantee,
      deadLetterTopic: deadLetterTopic(this.config.applicationId),
      topology: statusTopology(this.topology, this.config.applicationId),
      intervalMs: this.config.statusIntervalMs,
      snapshot: () => ({
        state: this.holder.state,
        tasks: thread.queryView().tasks.map((t) => ({ taskId: taskIdText(t.id), state: t.state })),
        metrics: this.metricsCounters.snapshot(),
      }),
    });
    void this.statusPublisher.start();
  }

  /** @internal What the status publisher did (tests). */
  get statusPublisherState(): StatusPublisher['state'] | undefined {
    return this.statusPublisher?.state;
  }

  /**
   * Runs the stream thread; with global tables, only once they are restored (the application is
   * REBALANCING meanwhile, as under Kafka Streams' global stream thread), and while their reader
   * keeps them up to date. The reader failing stops the thread (after its last commit) and the
   * application with the reader's error.
   */
  private async run(thread: StreamThread): Promise<void> {
    const global = this.global;
    if (global === undefined) return thread.run();
    this.moveTo(AppState.rebalancing);
    let failure: { error: unknown } | undefined;
    let reading!: Promise<void>;
    const restored = await new Promise<boolean>((resolve) => {
      reading = global.run(() => resolve(true)).then(
        () => resolve(false),
        (error: unknown) => {
          failure = { error };
          thread.stop();
          resolve(false);
        },
      );
    });
    try {
      if (restored && !this.closeRequested) await thread.run();
    } finally {
      await global.stop();
      await reading;
    }
    if (failure !== undefined) throw failure.error;
  }

  private async stopWithError(error: unknown): Promise<void> {
    if (this.closing !== undefined) return;
    this.failure = error;
    this.moveTo(AppState.pendingError);
    this.closing = this.shutDown();
    await this.closing;
    this.moveTo(AppState.error);
    await this.statusPublisher?.close('status');
    this.settled.reject(error);
  }

  private async shutDown(): Promise<void> {
    await this.global?.stop();
    await this.thread?.close();
    this.stateDir?.close();
  }

  /** Stops processing after a last commit (and final store snapshots), leaves the group and releases the state directory. */
  async close(): Promise<void> {
    if (this.closing !== undefined) return this.closing.then(() => undefined);
    // A start that failed released what it had opened and left the app in ERROR, which is final.
    if (this.holder.state === AppState.error) return;
    if (this.holder.state === AppState.created) {
      this.moveTo(AppState.pendingShutdown);
      this.moveTo(AppState.notRunning);
      this.settled.resolve();
      return;
    }
    this.moveTo(AppState.pendingShutdown);
    this.closeRequested = true;
    this.thread?.stop();
    void this.global?.stop();
    this.closing = (async () => {
      await this.runLoop;
      await this.shutDown();
      if (this.failure === undefined) await this.statusPublisher?.close('tombstone');
    })();
    await this.closing;
    if (this.failure === undefined) {
      this.moveTo(AppState.notRunning);
      this.settled.resolve();
    }
  }

  metrics(): StreamsMetricsSnapshot {
    return this.metricsCounters.snapshot();
  }

  /** The metrics in the Prometheus text format, to serve from an HTTP endpoint. */
  metricsText(): string {
    return this.metricsCounters.toPrometheus();
  }

  get applicationId(): string {
    return this.config.applicationId;
  }

  /** The `host:port` this process advertises for interactive queries (`applicationServer`), if any. */
  get endpoint(): string | undefined {
    return this.applicationServer;
  }

  /**
   * Sets `applicationServer` before `start()`, for a server whose port is known only once it
   * listens (`startAppServer` on port 0 does this).
   */
  setApplicationServer(endpoint: string): void {
    if (this.holder.state !== AppState.created) throw new StreamsError(StreamsErrorCode.invalidConfig, `the application server is set before start(); this application is ${this.holder.state}`);
    this.applicationServer = parseHostInfo(endpoint).endpoint;
  }

  /** The names of the stores interactive queries may read: those the topology named (Kafka Streams' rule). */
  queryableStoreNames(): string[] {
    return this.queries.storeNames();
  }

  /**
   * Read-only queries of the key-value store `name`, across the partitions this process runs.
   * Throws UNKNOWN_STATE_STORE (listing the queryable stores) or WRONG_STORE_TYPE; each read may
   * throw STORE_UNAVAILABLE (not RUNNING, or restoring: retry) or KEY_NOT_LOCAL. See
   * streams/query/interactive-queries.ts for what reads see; `{ stale: true }` is KIP-535's opt-in.
   */
  keyValueStore<K, V>(name: string, options: QueryOptions = {}): KeyValueStoreQuery<K, V> {
    return new KeyValueStoreQuery(this.queries, this.queries.store(name, 'keyValue'), options);
  }

  /** Read-only queries of the window store `name`; as `keyValueStore`. */
  windowStore<K, V>(name: string, options: QueryOptions = {}): WindowStoreQuery<K, V> {
    return new WindowStoreQuery(this.queries, this.queries.store(name, 'window'), options);
  }

  /** Read-only queries of the session store `name`; as `keyValueStore`. */
  sessionStore<K, V>(name: string, options: QueryOptions = {}): SessionStoreQuery<K, V> {
    return new SessionStoreQuery(this.queries, this.queries.store(name, 'session'), options);
  }

  /**
   * Which instance holds `key` of store `storeName` (Kafka Streams' `queryMetadataForKey`): its
   * partition by the default partitioner (murmur2 of the key in the store's key serde, as the
   * producer and the repartition topics place keys) and the instance whose task holds it, as the
   * last rebalance assigned it.
   */
  queryMetadataForKey<K>(storeName: string, key: K): KeyQueryMetadata {
    return this.queries.queryMetadataForKey(storeName, key);
  }

  /** Every instance advertising an `applicationServer`, with its stores, partitions and tasks, as of the last rebalance. */
  allMetadata(): StreamsMetadata[] {
    return this.queries.allMetadata();
  }

  /** The instances holding partitions of `storeName`. */
  allMetadataForStore(storeName: string): StreamsMetadata[] {
    return this.queries.allMetadataForStore(storeName);
  }

  /** @internal The interactive queries of this application, for the app server. */
  get interactiveQueries(): InteractiveQueries {
    return this.queries;
  }
}
