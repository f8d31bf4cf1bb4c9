import type { StoreSpec } from '../state/store-spec.ts';
import type { GlobalStoreSpec } from '../state/global-store-spec.ts';
import { splitSubtopologies } from './subtopologies.ts';
import { TopologyError } from './topology-error.ts';
import { TopologyDescription } from './topology-description.ts';
import type { ProcessorNode, RepartitionTopicSpec, SinkNode, SourceNode, TopicRef, TopologyNode } from './topology-nodes.ts';

export { TopologyError } from './topology-error.ts';

/**
 * A connected part of the topology: sources, the processors below them and their sinks, with the
 * stores those processors use. Repartition topics separate sub-topologies (a sink writes one, a
 * source in another sub-topology reads it back). Each sub-topology runs as one task per partition.
 */
export interface Subtopology {
  readonly id: number;
  /** Its nodes, parents before children. */
  readonly nodes: readonly TopologyNode[];
  readonly sources: readonly SourceNode[];
  readonly sinks: readonly SinkNode[];
  readonly stores: readonly StoreSpec[];
  readonly sourceTopics: readonly TopicRef[];
}

/**
 * Topics that must have the same number of partitions: the source topics of one sub-topology,
 * whose task `p` reads partition `p` of each. The runtime checks them before the first task runs
 * (`Topology.checkCopartitioning`); a repartition topic of the group without a set partition count
 * is created with the group's count.
 */
export interface CopartitionGroup {
  readonly subtopology: number;
  readonly topics: readonly TopicRef[];
}

/** A topic the runtime creates for the topology, named `<applicationId>-<name>`. */
export type InternalTopic =
  | {
      readonly kind: 'repartition';
      readonly name: string;
      /** undefined: as many as the tasks of the sub-topologies writing it (or its co-partition group's). */
      readonly partitions: number | undefined;
      readonly writers: readonly number[];
      readonly reader: number;
    }
  | {
      readonly kind: 'changelog';
      readonly name: string;
      readonly store: string;
      /** The sub-topology owning the store: the changelog has as many partitions as it has tasks. */
      readonly subtopology: number;
      readonly config: Readonly<Record<string, string>>;
    }
  | {
      /** A tier of a stage's retry ladder: written and read by the stage's sub-topology, partitioned as its other sources. */
      readonly kind: 'retry';
      readonly name: string;
      readonly stage: string;
      readonly tier: number;
      readonly delayMs: number;
      readonly subtopology: number;
    };

/**
 * A built topology as plain data: nodes, stores and repartition topics, split into
 * sub-topologies. Built by the DSL (`StreamsBuilder.build()`) or by hand with `TopologyBuilder`;
 * validated once here, so a runtime never starts on an inconsistent one.
 */
export class Topology {
  readonly subtopologies: readonly Subtopology[];
  readonly copartitionGroups: readonly CopartitionGroup[];
  readonly internalTopics: readonly InternalTopic[];
  private readonly children = new Map<string, string[]>();

  constructor(
    readonly nodes: ReadonlyMap<string, TopologyNode>,
    readonly stores: ReadonlyMap<string, StoreSpec>,
    readonly repartitionTopics: ReadonlyMap<string, RepartitionTopicSpec>,
    /** Stores every process keeps whole, each filled from its own topic (`TopologyBuilder.addGlobalStore`). */
    readonly globalStores: ReadonlyMap<string, GlobalStoreSpec> = new Map(),
  ) {
    for (const node of nodes.values()) {
      const refs = node.kind === 'source' ? node.topics : node.kind === 'sink' && typeof node.topic !== 'function' ? [node.topic] : [];
      for (const ref of refs) {
        if (ref.internal && !repartitionTopics.has(ref.name)) throw new TopologyError(`"${node.name}" uses an undeclared repartition topic "${ref.name}"`);
      }
      if (node.kind === 'source') continue;
      for (const parent of node.parents) {
        if (!nodes.has(parent)) throw new TopologyError(`node "${node.name}" names an unknown parent "${parent}"`);
        const list = this.children.get(parent) ?? [];
        list.push(node.name);
        this.children.set(parent, list);
      }
      if (node.kind === 'processor') {
        for (const store of node.stores) if (!stores.has(store)) throw new TopologyError(`processor "${node.name}" uses an unknown store "${store}"`);
      }
    }
    for (const node of nodes.values()) {
      if (node.kind === 'sink' && this.children.has(node.name)) throw new TopologyError(`sink "${node.name}" cannot have children`);
    }
    this.subtopologies = splitSubtopologies(nodes, stores, (name) => this.childrenOf(name), (ref) => ref.internal && repartitionTopics.get(ref.name)?.feedback === true);
    this.copartitionGroups = this.subtopologies.filter((s) => s.sourceTopics.length > 1).map((s) => ({ subtopology: s.id, topics: s.sourceTopics }));
    for (const group of this.copartitionGroups) this.checkSetPartitions(group);
    this.internalTopics = this.listInternalTopics();
  }

  /** The names of a node's children, in the order they were added. */
  childrenOf(name: string): readonly string[] {
    return this.children.get(name) ?? [];
  }

  /** The processor node named `name` (an invariant: callers only ask for nodes they were given). */
  processor(name: string): ProcessorNode {
    const node = this.nodes.get(name);
    if (node?.kind !== 'processor') throw new Error(`invariant: "${name}" is not a processor node`);
    return node;
  }

  /** Sub-topologies, nodes, stores and internal topics, as text (`toString()`) or Mermaid (`toMermaid()`). */
  describe(): TopologyDescription {
    return new TopologyDescription(this);
  }

  /**
   * Throws a TopologyError naming the topics and their counts when a co-partition group's topics
   * have different partition counts. `partitionsOf` answers for every topic of every group (for
   * repartition topics: the count they were or will be created with).
   */
  checkCopartitioning(partitionsOf: (topic: TopicRef) => number): void {
    for (const group of this.copartitionGroups) {
      const counts = group.topics.map((topic) => ({ topic, partitions: partitionsOf(topic) }));
      if (counts.every((c) => c.partitions === counts[0]!.partitions)) continue;
      const list = counts.map((c) => `"${c.topic.name}" has ${c.partitions}`).join(', ');
      throw new TopologyError(`the topics sub-topology ${group.subtopology} reads must be co-partitioned (task p reads partition p of each), but ${list}`);
    }
  }

  /** Repartition topics of one group whose partition counts are set must agree; the runtime checks the rest. */
  private checkSetPartitions(group: CopartitionGroup): void {
    const set = group.topics.filter((t) => t.internal && this.repartitionTopics.get(t.name)!.partitions !== undefined);
    const first = set[0];
    if (first === undefined) return;
    const expected = this.repartitionTopics.get(first.name)!.partitions;
    const other = set.find((t) => this.repartitionTopics.get(t.name)!.partitions !== expected);
    if (other !== undefined) {
      throw new TopologyError(
        `the topics sub-topology ${group.subtopology} reads must be co-partitioned, but the repartition topics "${first.name}" and "${other.name}" ` +
          `are set to ${expected} and ${this.repartitionTopics.get(other.name)!.partitions} partitions`,
      );
    }
  }

  private listInternalTopics(): InternalTopic[] {
    const subtopologyOf = new Map<string, number>();
    for (const s of this.subtopologies) for (const node of s.nodes) subtopologyOf.set(node.name, s.id);
    const topics: InternalTopic[] = [];
    for (const spec of this.repartitionTopics.values()) {
      const isIt = (ref: TopicRef): boolean => ref.internal && ref.name === spec.name;
      const writers = new Set<number>();
      let reader: number | undefined;
      for (const node of this.nodes.values()) {
        if (node.kind === 'sink' && typeof node.topic !== 'function' && isIt(node.topic)) writers.add(subtopologyOf.get(node.name)!);
        if (node.kind === 'source' && node.topics.some(isIt)) reader = subtopologyOf.get(node.name)!;
      }
      if (spec.retry !== undefined && reader !== undefined) {
        topics.push({ kind: 'retry', name: spec.name, stage: spec.retry.stage, tier: spec.retry.tier, delayMs: spec.retry.delayMs, subtopology: reader });
        continue;
      }
      if (writers.size === 0 || reader === undefined) {
        throw new TopologyError(`the repartition topic "${spec.name}" is ${writers.size === 0 ? 'never written' : 'never read'}: a repartition topic needs a sink and a source`);
      }
      topics.push({ kind: 'repartition', name: spec.name, partitions: spec.partitions, writers: [...writers].sort((a, b) => a - b), reader });
    }
    for (const s of this.subtopologies) {
      for (const store of s.stores) {
        if (!store.logged) continue;
        topics.push({ kind: 'changelog', name: `${store.name}-changelog`, store: store.name, subtopology: s.id, config: { 'cleanup.policy': 'compact', ...store.changelogConfig } });
      }
    }
    return topics;
  }
}
