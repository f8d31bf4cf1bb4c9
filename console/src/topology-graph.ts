import { html } from 'htm/preact';

/** A topic as the status route gives it: null when the token may not see it. */
export interface GraphTopic {
  name: string | null;
  internal: boolean;
}

export interface GraphTopology {
  nodes: { name: string; kind: 'source' | 'processor' | 'sink'; subtopology: number; topics?: GraphTopic[]; topic?: GraphTopic | null; stores?: string[]; children: string[] }[];
  stores: { name: string; kind: string; subtopology: number | null; changelog: string | null }[];
  globalStores: { name: string; topic: string | null }[];
  text: string | null;
}

type VertexKind = 'topic' | 'internal-topic' | 'hidden-topic' | 'source' | 'processor' | 'sink' | 'store';

interface Vertex {
  id: string;
  label: string;
  kind: VertexKind;
  layer: number;
  x: number;
  y: number;
}

interface Edge {
  from: string;
  to: string;
  dashed: boolean;
}

const BOX_WIDTH = 190;
const BOX_HEIGHT = 34;
const GAP_X = 24;
const GAP_Y = 30;
const MAX_LABEL = 25;
/** Vertices drawn at most: a topology bigger than this is shown as its text only. */
export const MAX_VERTICES = 400;

const KIND_TEXT: Record<VertexKind, string> = {
  topic: 'topic',
  'internal-topic': 'internal topic (repartition)',
  'hidden-topic': 'topic you may not see',
  source: 'source',
  processor: 'processor',
  sink: 'sink',
  store: 'state store',
};

/** Topics, nodes and stores as vertices, records' paths as edges (a store hangs off its processors, dashed). */
function graphOf(topology: GraphTopology): { vertices: Map<string, Omit<Vertex, 'layer' | 'x' | 'y'>>; edges: Edge[] } {
  const vertices = new Map<string, Omit<Vertex, 'layer' | 'x' | 'y'>>();
  const edges: Edge[] = [];
  let hiddenCount = 0;
  const topicVertex = (topic: GraphTopic): string => {
    if (topic.name === null) {
      const id = `hidden:${hiddenCount++}`;
      vertices.set(id, { id, label: 'hidden topic', kind: 'hidden-topic' });
      return id;
    }
    const id = `topic:${topic.name}`;
    if (!vertices.has(id)) vertices.set(id, { id, label: topic.name, kind: topic.internal ? 'internal-topic' : 'topic' });
    return id;
  };
  for (const node of topology.nodes) vertices.set(`node:${node.name}`, { id: `node:${node.name}`, label: node.name, kind: node.kind });
  for (const node of topology.nodes) {
    const id = `node:${node.name}`;
    for (const topic of node.topics ?? []) edges.push({ from: topicVertex(topic), to: id, dashed: false });
    for (const child of node.children) edges.push({ from: id, to: `node:${child}`, dashed: false });
    if (node.kind === 'sink') {
      const to = node.topic === null || node.topic === undefined ? topicVertex({ name: 'topic chosen per record', internal: false }) : topicVertex(node.topic);
      edges.push({ from: id, to, dashed: false });
    }
    for (const store of node.stores ?? []) {
      const storeId = `store:${store}`;
      if (!vertices.has(storeId)) vertices.set(storeId, { id: storeId, label: store, kind: 'store' });
      edges.push({ from: id, to: storeId, dashed: true });
    }
  }
  return { vertices, edges };
}

/**
 * A layered layout: each vertex one row below the deepest vertex feeding it (edges that close a
 * cycle, as a retry tier or a foreign-key join's response topic does, are left out of the
 * depth), rows ordered by the mean position of their parents, so the records flow top to bottom.
 */
export function layout(topology: GraphTopology): { vertices: Vertex[]; edges: Edge[]; width: number; height: number } {
  const { vertices, edges } = graphOf(topology);
  const incoming = new Map<string, string[]>();
  for (const edge of edges) incoming.set(edge.to, [...(incoming.get(edge.to) ?? []), edge.from]);
  const layerOf = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    visiting.add(id);
    let layer = 0;
    for (const from of incoming.get(id) ?? []) if (!visiting.has(from)) layer = Math.max(layer, depth(from) + 1);
    visiting.delete(id);
    layerOf.set(id, layer);
    return layer;
  };
  for (const id of vertices.keys()) depth(id);
  const rows: string[][] = [];
  for (const id of vertices.keys()) (rows[layerOf.get(id)!] ??= []).push(id);
  const column = new Map<string, number>();
  rows.forEach((row, r) => {
    if (r > 0) {
      const mean = (id: string) => {
        const parents = (incoming.get(id) ?? []).filter((p) => layerOf.get(p)! < r).map((p) => column.get(p) ?? 0);
        return parents.length === 0 ? Number.MAX_SAFE_INTEGER : parents.reduce((a, b) => a + b, 0) / parents.length;
      };
      row.sort((a, b) => mean(a) - mean(b));
    }
    row.forEach((id, i) => column.set(id, i));
  });
  const widest = Math.max(1, ...rows.map((row) => row?.length ?? 0));
  const width = widest * (BOX_WIDTH + GAP_X) + GAP_X;
  const placed: Vertex[] = [];
  rows.forEach((row, r) => {
    const offset = (width - row.length * (BOX_WIDTH + GAP_X) + GAP_X) / 2;
    row.forEach((id, i) => placed.push({ ...vertices.get(id)!, layer: r, x: offset + i * (BOX_WIDTH + GAP_X), y: GAP_Y + r * (BOX_HEIGHT + GAP_Y) }));
  });
  return { vertices: placed, edges, width, height: rows.length * (BOX_HEIGHT + GAP_Y) + GAP_Y };
}

function short(label: string): string {
  return label.length <= MAX_LABEL ? label : `${label.slice(0, MAX_LABEL - 1)}…`;
}

function shape(v: Vertex) {
  const common = { class: `v-${v.kind}` };
  if (v.kind === 'store') return html`<rect ...${common} x=${v.x} y=${v.y} width=${BOX_WIDTH} height=${BOX_HEIGHT} rx="14" />`;
  if (v.kind === 'topic' || v.kind === 'internal-topic' || v.kind === 'hidden-topic') {
    const skew = 10;
    const points = [`${v.x + skew},${v.y}`, `${v.x + BOX_WIDTH},${v.y}`, `${v.x + BOX_WIDTH - skew},${v.y + BOX_HEIGHT}`, `${v.x},${v.y + BOX_HEIGHT}`].join(' ');
    return html`<polygon ...${common} points=${points} />`;
  }
  return html`<rect ...${common} x=${v.x} y=${v.y} width=${BOX_WIDTH} height=${BOX_HEIGHT} rx="3" />`;
}

/**
 * The topology drawn as a graph (SVG generated from the status data): topics (slanted), sources,
 * processors and sinks (boxes, by colour), state stores (rounded, dashed links). The SVG is an
 * image for sighted users; the `describe()` text and the node list below it carry the same facts
 * for screen readers and search.
 */
export function TopologyGraph({ topology }: { topology: GraphTopology }) {
  const drawn = layout(topology);
  if (drawn.vertices.length > MAX_VERTICES) return html`<p>The topology has ${drawn.vertices.length} nodes, too many to draw; its description follows.</p>`;
  const at = new Map(drawn.vertices.map((v) => [v.id, v]));
  const summary = `Topology graph: ${topology.nodes.length} processing nodes in ${new Set(topology.nodes.map((n) => n.subtopology)).size} sub-topologies, ${topology.stores.length} state stores`;
  return html`
    <div class="scroll topology" tabindex="0">
      <svg role="img" aria-label=${summary} width=${drawn.width} height=${drawn.height} viewBox=${`0 0 ${drawn.width} ${drawn.height}`} data-testid="topology-graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#4f5862" /></marker>
        </defs>
        ${drawn.edges.map((e) => {
          const from = at.get(e.from)!;
          const to = at.get(e.to)!;
          const x1 = from.x + BOX_WIDTH / 2;
          const x2 = to.x + BOX_WIDTH / 2;
          if (to.layer <= from.layer) {
            // A feedback edge (retry tier, response topic) goes round the right-hand side.
            const side = drawn.width - GAP_X / 3;
            const d = `M ${from.x + BOX_WIDTH} ${from.y + BOX_HEIGHT / 2} L ${side} ${from.y + BOX_HEIGHT / 2} L ${side} ${to.y + BOX_HEIGHT / 2} L ${to.x + BOX_WIDTH} ${to.y + BOX_HEIGHT / 2}`;
            return html`<path class="edge" d=${d} fill="none" marker-end="url(#arrow)" />`;
          }
          return html`<line class=${e.dashed ? 'edge dashed' : 'edge'} x1=${x1} y1=${from.y + BOX_HEIGHT} x2=${x2} y2=${to.y} marker-end=${e.dashed ? undefined : 'url(#arrow)'} />`;
        })}
        ${drawn.vertices.map(
          (v) => html`<g class="vertex" data-kind=${v.kind} data-name=${v.label}>
            <title>${KIND_TEXT[v.kind]}: ${v.label}</title>
            ${shape(v)}
            <text x=${v.x + BOX_WIDTH / 2} y=${v.y + BOX_HEIGHT / 2 + 5} text-anchor="middle">${short(v.label)}</text>
          </g>`,
        )}
      </svg>
    </div>
    <ul class="legend" aria-label="Legend">
      ${(['topic', 'internal-topic', 'source', 'processor', 'sink', 'store'] as const).map((kind) => html`<li><span class=${`swatch v-${kind}`} aria-hidden="true"></span>${KIND_TEXT[kind]}</li>`)}
    </ul>
  `;
}
