import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorSupplier } from './processor.ts';
import { Topology, TopologyError } from './topology.ts';
import type { StoreSpec } from '../state/store-spec.ts';
import type { GlobalStoreSpec } from '../state/global-store-spec.ts';
import type { RepartitionTopicSpec, SinkPartitioner, TopicChooser, TopicRef, TopologyNode } from './topology-nodes.ts';

/**
 * Builds a topology node by node (Kafka Streams' `Topology.addSource/addProcessor/addSink`); the
 * DSL uses it underneath. Names must be unique across nodes; stores are connected to the
 * processors that use them.
 */
export class TopologyBuilder {
  private readonly nodes = new Map<string, TopologyNode>();
  private readonly stores = new Map<string, StoreSpec>();
  private readonly repartitionTopics = new Map<string, RepartitionTopicSpec>();
  private readonly globalStores = new Map<string, GlobalStoreSpec>();

  private checkName(name: string): void {
    if (name === '') throw new TopologyError('a node name must not be empty');
    if (this.nodes.has(name)) throw new TopologyError(`the name "${name}" is used twice`);
  }

  private checkParents(name: string, parents: readonly string[]): void {
    if (parents.length === 0) throw new TopologyError(`"${name}" needs at least one parent`);
    for (const parent of parents) {
      const node = this.nodes.get(parent);
      if (node === undefined) throw new TopologyError(`"${name}" names an unknown parent "${parent}"`);
      if (node.kind === 'sink') throw new TopologyError(`"${name}" cannot follow the sink "${parent}"`);
    }
  }

  addSource(name: string, topics: readonly (string | TopicRef)[], serdes: { key: Serde<unknown>; value: Serde<unknown> }): this {
    this.checkName(name);
    if (topics.length === 0) throw new TopologyError(`source "${name}" needs at least one topic`);
    const refs = topics.map((t) => (typeof t === 'string' ? { name: t, internal: false } : t));
    for (const node of this.nodes.values()) {
      if (node.kind !== 'source') continue;
      const shared = node.topics.find((a) => refs.some((b) => a.name === b.name && a.internal === b.internal));
      if (shared !== undefined) throw new TopologyError(`topic "${shared.name}" is read by two sources, "${node.name}" and "${name}"`);
    }
    for (const global of this.globalStores.values()) {
      if (refs.some((r) => !r.internal && r.name === global.topic)) throw new TopologyError(`topic "${global.topic}" is read by the global store "${global.name}" and by the source "${name}"`);
    }
    this.nodes.set(name, { kind: 'source', name, topics: refs, keySerde: serdes.key, valueSerde: serdes.value });
    return this;
  }

  addProcessor<KIn, VIn, KOut, VOut>(name: string, supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>, parents: readonly string[], stores: readonly string[] = []): this {
    this.checkName(name);
    this.checkParents(name, parents);
    for (const store of stores) if (!this.stores.has(store)) throw new TopologyError(`processor "${name}" uses an unknown store "${store}"; add the store first`);
    this.nodes.set(name, { kind: 'processor', name, parents: [...parents], supplier: supplier as ProcessorSupplier<unknown, unknown, unknown, unknown>, stores: [...stores] });
    return this;
  }

  addSink(
    name: string,
    topic: string | TopicRef | TopicChooser,
    parents: readonly string[],
    options: { key: Serde<unknown>; value: Serde<unknown>; partitioner?: SinkPartitioner },
  ): this {
    this.checkName(name);
    this.checkParents(name, parents);
    const target = typeof topic === 'string' ? { name: topic, internal: false } : topic;
    this.nodes.set(name, { kind: 'sink', name, parents: [...parents], topic: target, keySerde: options.key, valueSerde: options.value, partitioner: options.partitioner });
    return this;
  }

  addStore(spec: StoreSpec): this {
    if (this.stores.has(spec.name) || this.globalStores.has(spec.name)) throw new TopologyError(`the store name "${spec.name}" is used twice`);
    if (spec.kind === 'window') {
      if (!Number.isSafeInteger(spec.windowSizeMs) || spec.windowSizeMs <= 0) throw new TopologyError(`window store "${spec.name}": the window size must be a positive integer of milliseconds, got ${spec.windowSizeMs}`);
      if (!Number.isSafeInteger(spec.retentionMs) || spec.retentionMs < spec.windowSizeMs) {
        throw new TopologyError(`window store "${spec.name}": the retention must be an integer of milliseconds no shorter than the window size (${spec.windowSizeMs}), got ${spec.retentionMs}`);
      }
    }
    if (spec.kind === 'session' && (!Number.isSafeInteger(spec.retentionMs) || spec.retentionMs <= 0)) {
      throw new TopologyError(`session store "${spec.name}": the retention must be a positive integer of milliseconds, got ${spec.retentionMs}`);
    }
    this.stores.set(spec.name, spec);
    return this;
  }

  /** Declares a repartition topic (by suffix); sinks and sources refer to it with `{ name, internal: true }`. */
  addRepartitionTopic(spec: RepartitionTopicSpec): this {
    if (this.repartitionTopics.has(spec.name)) throw new TopologyError(`the repartition topic "${spec.name}" is declared twice`);
    this.repartitionTopics.set(spec.name, spec);
    return this;
  }

  /**
   * Adds a global store: every process keeps the whole of `spec.topic` in it, and any processor
   * reads it by name (`getStateStore`) without being connected to it. The topic is read by no source.
   */
  addGlobalStore(spec: GlobalStoreSpec): this {
    if (this.stores.has(spec.name) || this.globalStores.has(spec.name)) throw new TopologyError(`the store name "${spec.name}" is used twice`);
    for (const global of this.globalStores.values()) {
      if (global.topic === spec.topic) throw new TopologyError(`topic "${spec.topic}" is read by two global stores, "${global.name}" and "${spec.name}"`);
    }
    for (const node of this.nodes.values()) {
      if (node.kind === 'source' && node.topics.some((t) => !t.internal && t.name === spec.topic)) {
        throw new TopologyError(`topic "${spec.topic}" is read by the source "${node.name}" and by the global store "${spec.name}"`);
      }
    }
    this.globalStores.set(spec.name, spec);
    return this;
  }

  build(): Topology {
    return new Topology(new Map(this.nodes), new Map(this.stores), new Map(this.repartitionTopics), new Map(this.globalStores));
  }
}
