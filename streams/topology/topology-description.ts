import type { Topology } from './topology.ts';
import type { TopicRef, TopologyNode } from './topology-nodes.ts';

/**
 * What `Topology.describe()` shows: sub-topologies with their nodes (kind, topics, stores, parents
 * and children), then stores, internal topics and co-partitioned topics. `toString()` is readable
 * text in the shape of Kafka Streams' TopologyDescription; `toMermaid()` is a Mermaid flowchart.
 * Internal topics appear by their name within the application: the runtime creates them as
 * `<applicationId>-<name>`.
 */
export class TopologyDescription {
  constructor(private readonly topology: Topology) {}

  toString(): string {
    const lines = ['Topologies:'];
    for (const sub of this.topology.subtopologies) {
      if (sub.id > 0) lines.push('');
      lines.push(`   Sub-topology: ${sub.id}`);
      for (const node of sub.nodes) {
        lines.push(`    ${nodeHeading(node)}`);
        const children = this.topology.childrenOf(node.name);
        if (node.kind !== 'sink') lines.push(`      --> ${children.length === 0 ? 'none' : children.join(', ')}`);
        if (node.kind !== 'source') lines.push(`      <-- ${node.parents.join(', ')}`);
      }
    }
    const stores = [...this.topology.stores.values()];
    if (stores.length > 0) {
      lines.push('', 'Stores:');
      for (const store of stores) {
        const owner = this.topology.subtopologies.find((s) => s.stores.includes(store));
        const kind =
          store.kind === 'window' ? `window (size ${store.windowSizeMs} ms, retention ${store.retentionMs} ms)` : store.kind === 'session' ? `session (retention ${store.retentionMs} ms)` : 'key-value';
        const traits = [kind, store.cached ? 'cached' : 'not cached', store.logged ? `changelog ${store.name}-changelog` : 'not logged'];
        lines.push(`    ${store.name} (${traits.join(', ')}) ${owner === undefined ? 'used by no processor' : `in sub-topology ${owner.id}`}`);
      }
    }
    if (this.topology.globalStores.size > 0) {
      lines.push('', 'Global stores (each process reads every partition of the topic; any processor may read them):');
      for (const store of this.topology.globalStores.values()) lines.push(`    ${store.name} from topic ${store.topic}`);
    }
    if (this.topology.internalTopics.length > 0) {
      lines.push('', 'Internal topics (created as <applicationId>-<name>):');
      for (const topic of this.topology.internalTopics) {
        if (topic.kind === 'repartition') {
          const partitions = topic.partitions === undefined ? this.derivedRepartitionCount(topic.reader) : String(topic.partitions);
          lines.push(`    ${topic.name} (repartition) written by sub-topology ${topic.writers.join(', ')}, read by sub-topology ${topic.reader}; partitions: ${partitions}`);
        } else if (topic.kind === 'retry') {
          lines.push(`    ${topic.name} (retry tier ${topic.tier} of ${topic.stage}, delay ${topic.delayMs} ms) written and read by sub-topology ${topic.subtopology}; partitions: as its other sources`);
        } else {
          const config = Object.entries(topic.config).map(([key, value]) => `${key}=${value}`).join(', ');
          lines.push(`    ${topic.name} (changelog of ${topic.store}) partitions: as sub-topology ${topic.subtopology}'s tasks; config: ${config}`);
        }
      }
    }
    if (this.topology.copartitionGroups.length > 0) {
      lines.push('', 'Co-partitioned (same partition count):');
      for (const group of this.topology.copartitionGroups) lines.push(`    sub-topology ${group.subtopology}: [${group.topics.map((t) => t.name).join(', ')}]`);
    }
    return `${lines.join('\n')}\n`;
  }

  /**
   * Where an unset repartition count comes from (the rule of streams/runtime/internal-topics.ts):
   * read together with user topics, it takes theirs so the reader's tasks line up; else its writers'.
   */
  private derivedRepartitionCount(reader: number): string {
    const userTopics = (this.topology.subtopologies.find((s) => s.id === reader)?.sourceTopics ?? []).filter((t) => !t.internal);
    if (userTopics.length === 0) return "as many as its writers' tasks";
    return `as many as ${userTopics.length === 1 ? 'topic' : 'the largest of topics'} ${userTopics.map((t) => t.name).join(', ')} (co-partitioned)`;
  }

  /** A Mermaid flowchart: a box per sub-topology holding its nodes and stores, topics between them. */
  toMermaid(): string {
    const nodeIds = new Map<string, string>();
    const topicIds = new Map<string, string>();
    const storeIds = new Map<string, string>();
    const topicLines: string[] = [];
    const edges: string[] = [];
    const lines = ['flowchart TB'];
    const topicId = (ref: TopicRef | undefined): string => {
      const key = ref === undefined ? `chooser:${topicIds.size}` : `${ref.internal ? 'internal' : 'user'}:${ref.name}`;
      let id = topicIds.get(key);
      if (id === undefined) {
        id = `t${topicIds.size}`;
        topicIds.set(key, id);
        topicLines.push(`  ${id}[/"${mermaidText(ref === undefined ? 'topic chosen per record' : ref.name)}"/]`);
      }
      return id;
    };
    for (const sub of this.topology.subtopologies) {
      for (const node of sub.nodes) nodeIds.set(node.name, `n${nodeIds.size}`);
      for (const store of sub.stores) storeIds.set(store.name, `s${storeIds.size}`);
    }
    for (const sub of this.topology.subtopologies) {
      lines.push(`  subgraph sub${sub.id} ["Sub-topology ${sub.id}"]`);
      for (const node of sub.nodes) {
        const id = nodeIds.get(node.name)!;
        const label = `"${mermaidText(node.name)}"`;
        lines.push(`    ${id}${node.kind === 'source' ? `([${label}])` : node.kind === 'sink' ? `>${label}]` : `[${label}]`}`);
        if (node.kind === 'source') for (const ref of node.topics) edges.push(`  ${topicId(ref)} --> ${id}`);
        for (const child of this.topology.childrenOf(node.name)) edges.push(`  ${id} --> ${nodeIds.get(child)!}`);
        if (node.kind === 'sink') edges.push(`  ${id} --> ${topicId(typeof node.topic === 'function' ? undefined : node.topic)}`);
        if (node.kind === 'processor') for (const store of node.stores) edges.push(`  ${id} -.- ${storeIds.get(store)!}`);
      }
      for (const store of sub.stores) lines.push(`    ${storeIds.get(store.name)!}[("${mermaidText(store.name)}")]`);
      lines.push('  end');
    }
    return `${[...lines, ...topicLines, ...edges].join('\n')}\n`;
  }
}

function nodeHeading(node: TopologyNode): string {
  switch (node.kind) {
    case 'source':
      return `Source: ${node.name} (topics: [${node.topics.map((t) => t.name).join(', ')}])`;
    case 'processor':
      return `Processor: ${node.name} (stores: [${node.stores.join(', ')}])`;
    case 'sink':
      return `Sink: ${node.name} (topic: ${typeof node.topic === 'function' ? 'chosen per record' : node.topic.name})`;
  }
}

/** Text inside a quoted Mermaid label: a double quote would end it. */
function mermaidText(text: string): string {
  return text.replaceAll('"', '#quot;');
}
