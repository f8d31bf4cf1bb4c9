import type { StoreSpec } from '../state/store-spec.ts';
import type { ProcessorNode, RepartitionTopicSpec, SinkNode, SourceNode, TopicRef, TopologyNode } from './topology-nodes.ts';

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

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

/**
 * A built topology as plain data: nodes, stores and repartition topics, split into
 * sub-topologies. Built by the DSL (`StreamsBuilder.build()`) or by hand with `TopologyBuilder`;
 * validated once here, so a runtime never starts on an inconsistent one.
 */
export class Topology {
  readonly subtopologies: readonly Subtopology[];
  private readonly children = new Map<string, string[]>();

  constructor(
    readonly nodes: ReadonlyMap<string, TopologyNode>,
    readonly stores: ReadonlyMap<string, StoreSpec>,
    readonly repartitionTopics: ReadonlyMap<string, RepartitionTopicSpec>,
  ) {
    for (const node of nodes.values()) {
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
    this.subtopologies = this.split();
  }

  /** The names of a node's children, in the order they were added. */
  childrenOf(name: string): readonly string[] {
    return this.children.get(name) ?? [];
  }

  /** Connected components over parent/child edges and shared stores; numbered in node insertion order. */
  private split(): Subtopology[] {
    const component = new Map<string, string>();
    const find = (name: string): string => {
      let root = name;
      while (component.get(root) !== root) root = component.get(root)!;
      component.set(name, root);
      return root;
    };
    const union = (a: string, b: string): void => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) component.set(rb, ra);
    };
    for (const name of this.nodes.keys()) component.set(name, name);
    const storeUser = new Map<string, string>();
    for (const node of this.nodes.values()) {
      if (node.kind !== 'source') for (const parent of node.parents) union(parent, node.name);
      if (node.kind === 'processor') {
        for (const store of node.stores) {
          const other = storeUser.get(store);
          if (other === undefined) storeUser.set(store, node.name);
          else union(other, node.name);
        }
      }
    }
    const byRoot = new Map<string, TopologyNode[]>();
    for (const node of this.nodes.values()) {
      const root = find(node.name);
      const list = byRoot.get(root) ?? [];
      list.push(node);
      byRoot.set(root, list);
    }
    return [...byRoot.values()].map((members, id) => {
      const ordered = this.parentsFirst(members);
      const sources = ordered.filter((n): n is SourceNode => n.kind === 'source');
      if (sources.length === 0) throw new TopologyError(`nodes ${members.map((n) => `"${n.name}"`).join(', ')} are not connected to any source`);
      const storeNames = new Set(ordered.flatMap((n) => (n.kind === 'processor' ? n.stores : [])));
      return {
        id,
        nodes: ordered,
        sources,
        sinks: ordered.filter((n): n is SinkNode => n.kind === 'sink'),
        stores: [...storeNames].map((s) => this.stores.get(s)!),
        sourceTopics: sources.flatMap((s) => s.topics),
      };
    });
  }

  /** Kahn's order within one sub-topology; a cycle is a topology error. */
  private parentsFirst(members: readonly TopologyNode[]): TopologyNode[] {
    const pending = new Map<string, number>();
    for (const node of members) pending.set(node.name, node.kind === 'source' ? 0 : node.parents.length);
    const ready = members.filter((n) => pending.get(n.name) === 0).map((n) => n.name);
    const ordered: TopologyNode[] = [];
    while (ready.length > 0) {
      const name = ready.shift()!;
      ordered.push(this.nodes.get(name)!);
      for (const child of this.childrenOf(name)) {
        const left = pending.get(child)! - 1;
        pending.set(child, left);
        if (left === 0) ready.push(child);
      }
    }
    if (ordered.length !== members.length) {
      const stuck = members.filter((n) => !ordered.includes(n)).map((n) => `"${n.name}"`);
      throw new TopologyError(`the topology has a cycle through ${stuck.join(', ')}`);
    }
    return ordered;
  }

  /** The processor node named `name` (an invariant: callers only ask for nodes they were given). */
  processor(name: string): ProcessorNode {
    const node = this.nodes.get(name);
    if (node?.kind !== 'processor') throw new Error(`invariant: "${name}" is not a processor node`);
    return node;
  }
}
