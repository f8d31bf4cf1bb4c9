import type { Topology } from '../topology/topology.ts';
import type { TopicRef } from '../topology/topology-nodes.ts';
import { changelogTopicName, internalTopicName } from './internal-topics.ts';
import type { StatusTopicRef, StatusTopology } from './status-record.ts';

/**
 * The topology as plain data for the status record: what `describe()` lists (sub-topologies,
 * nodes with their topics, stores and children, stores with their changelogs, global stores),
 * with internal topics under the full names the runtime gives them (`<applicationId>-<name>`),
 * so a reader can match them with the broker's topics.
 */
export function statusTopology(topology: Topology, applicationId: string): StatusTopology {
  const ref = (topic: TopicRef): StatusTopicRef => ({ name: topic.internal ? internalTopicName(applicationId, topic.name) : topic.name, internal: topic.internal });
  const ownerOf = new Map<string, number>();
  for (const sub of topology.subtopologies) for (const store of sub.stores) ownerOf.set(store.name, sub.id);
  return {
    nodes: topology.subtopologies.flatMap((sub) =>
      sub.nodes.map((node) => {
        const base = { name: node.name, kind: node.kind, subtopology: sub.id, children: [...topology.childrenOf(node.name)] };
        if (node.kind === 'source') return { ...base, topics: node.topics.map(ref) };
        if (node.kind === 'sink') return { ...base, topic: typeof node.topic === 'function' ? null : ref(node.topic) };
        return { ...base, stores: [...node.stores] };
      }),
    ),
    stores: [...topology.stores.values()].map((store) => ({
      name: store.name,
      kind: store.kind,
      subtopology: ownerOf.get(store.name) ?? null,
      changelog: store.logged ? changelogTopicName(applicationId, store.name) : null,
    })),
    globalStores: [...topology.globalStores.values()].map((store) => ({ name: store.name, topic: store.topic })),
    text: topology.describe().toString(),
  };
}
