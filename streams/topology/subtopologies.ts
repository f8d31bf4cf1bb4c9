import type { StoreSpec } from '../state/store-spec.ts';
import type { SinkNode, SourceNode, TopicRef, TopologyNode } from './topology-nodes.ts';
import { TopologyError } from './topology-error.ts';
import type { Subtopology } from './topology.ts';

/** A topic as an identity: internal (repartition) topics and user topics never collide. */
function topicKey(ref: TopicRef): string {
  return `${ref.internal ? 'internal' : 'user'}:${ref.name}`;
}

function topicText(ref: TopicRef): string {
  return ref.internal ? `repartition topic "${ref.name}"` : `topic "${ref.name}"`;
}

/** Disjoint sets of node names. */
class Components {
  private readonly parent = new Map<string, string>();

  constructor(names: Iterable<string>) {
    for (const name of names) this.parent.set(name, name);
  }

  find(name: string): string {
    let root = name;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    this.parent.set(name, root);
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

/**
 * Which node writes each topic that which node reads, seen between components: the components are
 * looked up at each question, so the answers follow the unions made since.
 */
class TopicGraph {
  private readonly edges: { from: string; topic: TopicRef; to: string }[] = [];

  constructor(
    nodes: Iterable<TopologyNode>,
    private readonly root: (name: string) => string,
    include: (ref: TopicRef) => boolean,
  ) {
    const readers = new Map<string, string>();
    const all = [...nodes];
    for (const node of all) if (node.kind === 'source') for (const ref of node.topics) if (include(ref)) readers.set(topicKey(ref), node.name);
    for (const node of all) {
      if (node.kind !== 'sink' || typeof node.topic === 'function' || !include(node.topic)) continue;
      const to = readers.get(topicKey(node.topic));
      if (to !== undefined) this.edges.push({ from: node.name, topic: node.topic, to });
    }
  }

  /** The topics of a path from component `from` to component `to` (roots), undefined when there is none. */
  path(from: string, to: string): TopicRef[] | undefined {
    const out = new Map<string, { topic: TopicRef; to: string }[]>();
    for (const edge of this.edges) {
      const at = this.root(edge.from);
      const list = out.get(at) ?? [];
      list.push({ topic: edge.topic, to: this.root(edge.to) });
      out.set(at, list);
    }
    const via = new Map<string, { topic: TopicRef; previous: string }>();
    const queue = [from];
    const seen = new Set([from]);
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const edge of out.get(at) ?? []) {
        if (edge.to === to) {
          const topics = [edge.topic];
          for (let back = at; back !== from; back = via.get(back)!.previous) topics.unshift(via.get(back)!.topic);
          return topics;
        }
        if (seen.has(edge.to)) continue;
        seen.add(edge.to);
        via.set(edge.to, { topic: edge.topic, previous: at });
        queue.push(edge.to);
      }
    }
    return undefined;
  }

  /** The topics of a cycle between components, if there is one. */
  cycle(roots: Iterable<string>): TopicRef[] | undefined {
    for (const root of roots) {
      const back = this.path(root, root);
      if (back !== undefined) return back;
    }
    return undefined;
  }
}

/**
 * Splits the nodes into sub-topologies: connected components over parent/child edges, joined by
 * shared stores (a processor reading another component's store puts both in one task, as Kafka
 * Streams does for joins; their sources must then be co-partitioned). Numbered in node insertion
 * order, nodes parents first.
 *
 * Refused: a store whose processors a topic separates (one side writes what the other reads, so
 * they would be two sub-topologies and the store would live in both), a cycle through repartition
 * topics, a cycle of nodes, nodes without a source. Loops through user topics are allowed, as in
 * Kafka Streams (a retry topic the application reads back, say), and so are `feedback` topics
 * (a foreign-key join's responses), which both checks leave out.
 */
export function splitSubtopologies(
  nodes: ReadonlyMap<string, TopologyNode>,
  stores: ReadonlyMap<string, StoreSpec>,
  childrenOf: (name: string) => readonly string[],
  feedback: (ref: TopicRef) => boolean = () => false,
): Subtopology[] {
  const components = new Components(nodes.keys());
  for (const node of nodes.values()) if (node.kind !== 'source') for (const parent of node.parents) components.union(parent, node.name);

  const byEdges = new TopicGraph(nodes.values(), (name) => components.find(name), (ref) => !feedback(ref));
  const firstUser = new Map<string, string>();
  for (const node of nodes.values()) {
    if (node.kind !== 'processor') continue;
    for (const store of node.stores) {
      const other = firstUser.get(store);
      if (other === undefined) {
        firstUser.set(store, node.name);
        continue;
      }
      const a = components.find(other);
      const b = components.find(node.name);
      if (a === b) continue;
      const between = byEdges.path(a, b) ?? byEdges.path(b, a);
      if (between !== undefined) {
        throw new TopologyError(
          `store "${store}" is used by "${other}" and "${node.name}", which ${between.map(topicText).join(' then ')} separates into two sub-topologies; ` +
            'a store belongs to the tasks of one sub-topology: give each side its own store, or read the other side as a table',
        );
      }
      components.union(a, b);
    }
  }

  const roots = new Set([...nodes.keys()].map((name) => components.find(name)));
  const internal = new TopicGraph(nodes.values(), (name) => components.find(name), (ref) => ref.internal && !feedback(ref));
  const cycle = internal.cycle(roots);
  if (cycle !== undefined) {
    throw new TopologyError(`the topology has a cycle through ${cycle.map(topicText).join(', then ')}, back to where it started: records would loop forever`);
  }

  const byRoot = new Map<string, TopologyNode[]>();
  for (const node of nodes.values()) {
    const root = components.find(node.name);
    const list = byRoot.get(root) ?? [];
    list.push(node);
    byRoot.set(root, list);
  }
  return [...byRoot.values()].map((members, id) => {
    const ordered = parentsFirst(members, nodes, childrenOf);
    const sources = ordered.filter((n): n is SourceNode => n.kind === 'source');
    if (sources.length === 0) throw new TopologyError(`nodes ${members.map((n) => `"${n.name}"`).join(', ')} are not connected to any source`);
    const storeNames = new Set(ordered.flatMap((n) => (n.kind === 'processor' ? n.stores : [])));
    return {
      id,
      nodes: ordered,
      sources,
      sinks: ordered.filter((n): n is SinkNode => n.kind === 'sink'),
      stores: [...storeNames].map((s) => stores.get(s)!),
      sourceTopics: sources.flatMap((s) => s.topics),
    };
  });
}

/**
 * Parents before children within one component, depth first (each chain followed to its end before
 * the next child, children in the order they were added), so a description reads like the code;
 * a cycle is a topology error.
 */
function parentsFirst(members: readonly TopologyNode[], nodes: ReadonlyMap<string, TopologyNode>, childrenOf: (name: string) => readonly string[]): TopologyNode[] {
  const pending = new Map<string, number>();
  for (const node of members) pending.set(node.name, node.kind === 'source' ? 0 : node.parents.length);
  const ready = members.filter((n) => pending.get(n.name) === 0).map((n) => n.name).reverse();
  const ordered: TopologyNode[] = [];
  while (ready.length > 0) {
    const name = ready.pop()!;
    ordered.push(nodes.get(name)!);
    const children = childrenOf(name);
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
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
