import { describe, expect, it } from 'vitest';
import { bytesSerde, jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import { type ProcessorSupplier, StreamsBuilder, Topology, TopologyBuilder, TopologyError } from '../../../streams/mod.ts';
import type { TopologyNode } from '../../../streams/topology/topology-nodes.ts';

const text = { key: stringSerde, value: stringSerde };
const bytes = { key: bytesSerde, value: bytesSerde };

/** A processor that forwards what it gets; the tests here only build topologies. */
const forwarding: ProcessorSupplier<unknown, unknown, unknown, unknown> = () => {
  let forward: (record: Parameters<ReturnType<ProcessorSupplier<unknown, unknown, unknown, unknown>>['process']>[0]) => void;
  return { init: (ctx) => void (forward = (r) => ctx.forward(r)), process: (record) => forward(record) };
};

function buildError(build: () => unknown): TopologyError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return error as TopologyError;
  }
  throw new Error('expected a TopologyError');
}

describe('topology validation', () => {
  it('refuses a window store whose size or retention makes no sense', () => {
    const spec = { name: 'w', kind: 'window' as const, keySerde: stringSerde, valueSerde: stringSerde, logged: true, cached: true, changelogConfig: {} } as const;
    expect(buildError(() => new TopologyBuilder().addStore({ ...spec, windowSizeMs: 0, retentionMs: 10 })).message).toBe(
      'window store "w": the window size must be a positive integer of milliseconds, got 0',
    );
    expect(buildError(() => new TopologyBuilder().addStore({ ...spec, windowSizeMs: 10, retentionMs: 9 })).message).toBe(
      'window store "w": the retention must be an integer of milliseconds no shorter than the window size (10), got 9',
    );
    expect(() => new TopologyBuilder().addStore({ ...spec, windowSizeMs: 10, retentionMs: 10 })).not.toThrow();
  });

  it('refuses a processor that names an unknown store', () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream('in', text);
    expect(buildError(() => stream.process(forwarding, { stores: ['missing'] })).message).toBe(
      'processor "KSTREAM-PROCESSOR-0000000001" uses an unknown store "missing"; add the store first',
    );
  });

  it('refuses a store whose processors a repartition topic separates into two sub-topologies', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'seen', ...text });
    builder
      .stream('in', text)
      .process(forwarding, { name: 'before', stores: ['seen'], ...text })
      .repartition({ name: 'rekeyed' })
      .process(forwarding, { name: 'after', stores: ['seen'], ...text });
    expect(buildError(() => builder.build()).message).toBe(
      'store "seen" is used by "before" and "after", which repartition topic "rekeyed-repartition" separates into two sub-topologies; ' +
        'a store belongs to the tasks of one sub-topology: give each side its own store, or read the other side as a table',
    );
  });

  it('also when stores already joined the components: a topic separating the users of a second store is found', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'first', ...text });
    builder.addStateStore({ name: 'second', ...text });
    builder.stream('a', text).process(forwarding, { name: 'on-a', stores: ['first'] });
    builder.stream('b', text).process(forwarding, { name: 'on-b', stores: ['first', 'second'], ...text }).to('bridge');
    builder.stream('bridge', text).process(forwarding, { name: 'on-bridge', stores: ['second'] });
    expect(buildError(() => builder.build()).message).toMatch(/^store "second" is used by "on-b" and "on-bridge", which topic "bridge" separates into two sub-topologies/);
  });

  it('puts processors of two inputs sharing a store in one sub-topology and records that the inputs must be co-partitioned', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'shared', ...text });
    builder.stream('left', text).process(forwarding, { stores: ['shared'] });
    builder.stream(['right', 'more'], text).process(forwarding, { stores: ['shared'] });
    builder.stream('alone', text).to('out');
    const topology = builder.build();
    expect(topology.subtopologies.map((s) => s.sourceTopics.map((t) => t.name))).toEqual([['left', 'right', 'more'], ['alone']]);
    expect(topology.copartitionGroups).toEqual([
      {
        subtopology: 0,
        topics: [
          { name: 'left', internal: false },
          { name: 'right', internal: false },
          { name: 'more', internal: false },
        ],
      },
    ]);
    const counts: Record<string, number> = { left: 4, right: 4, more: 4, alone: 1 };
    expect(() => topology.checkCopartitioning((t) => counts[t.name]!)).not.toThrow();
    counts['more'] = 6;
    expect(buildError(() => topology.checkCopartitioning((t) => counts[t.name]!)).message).toBe(
      'the topics sub-topology 0 reads must be co-partitioned (task p reads partition p of each), but "left" has 4, "right" has 4, "more" has 6',
    );
  });

  it('refuses co-partitioned repartition topics set to different partition counts', () => {
    const builder = new StreamsBuilder();
    const a = builder.stream('a', text).repartition({ name: 'a-by-key', partitions: 2 });
    const b = builder.stream('b', text).repartition({ name: 'b-by-key', partitions: 3 });
    a.merge(b).to('out');
    expect(buildError(() => builder.build()).message).toBe(
      'the topics sub-topology 1 reads must be co-partitioned, but the repartition topics "a-by-key-repartition" and "b-by-key-repartition" are set to 2 and 3 partitions',
    );
  });

  it('refuses a name used twice: nodes, stores, repartition topics', () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream('in', text);
    stream.to('out', { name: 'sink' });
    expect(buildError(() => stream.to('other', { name: 'sink' })).message).toBe('the name "sink" is used twice');
    stream.groupByKey().count({ name: 'counts' });
    expect(buildError(() => stream.groupByKey().count({ name: 'counts' })).message).toBe('the store name "counts" is used twice');
    expect(buildError(() => builder.table('t', { ...text, name: 'counts' })).message).toBe('the store name "counts" is used twice');
    const manual = new TopologyBuilder().addRepartitionTopic({ name: 'r', partitions: undefined });
    expect(buildError(() => manual.addRepartitionTopic({ name: 'r', partitions: 2 })).message).toBe('the repartition topic "r" is declared twice');
  });

  it('refuses a sink without serdes for a type the operators changed, also below a table', () => {
    const builder = new StreamsBuilder();
    const lengths = builder.stream('in', text).mapValues((value) => value.length);
    expect(buildError(() => lengths.to('out')).message).toMatch(/^to\("out"\) needs a value serde/);
    const table = builder.table('t', text).mapValues((value) => value.length);
    expect(buildError(() => table.toStream().to('out')).message).toMatch(/^to\("out"\) needs a value serde/);
    expect(() => table.toStream().to('out', { value: jsonSerde<number | null>() })).not.toThrow();
  });

  it('refuses a cycle of nodes', () => {
    const nodes = new Map<string, TopologyNode>([
      ['source', { kind: 'source', name: 'source', topics: [{ name: 'in', internal: false }], keySerde: bytesSerde, valueSerde: bytesSerde }],
      ['a', { kind: 'processor', name: 'a', parents: ['source', 'b'], supplier: forwarding, stores: [] }],
      ['b', { kind: 'processor', name: 'b', parents: ['a'], supplier: forwarding, stores: [] }],
    ]);
    expect(buildError(() => new Topology(nodes, new Map(), new Map())).message).toBe('the topology has a cycle through "a", "b"');
  });

  it('refuses a cycle through repartition topics, and a repartition topic that is never read', () => {
    const looping = new TopologyBuilder()
      .addRepartitionTopic({ name: 'r1', partitions: undefined })
      .addRepartitionTopic({ name: 'r2', partitions: undefined })
      .addSource('in', ['input'], bytes)
      .addSink('to-r1', { name: 'r1', internal: true }, ['in'], bytes)
      .addSource('from-r1', [{ name: 'r1', internal: true }], bytes)
      .addSink('to-r2', { name: 'r2', internal: true }, ['from-r1'], bytes)
      .addSource('from-r2', [{ name: 'r2', internal: true }], bytes)
      .addSink('back-to-r1', { name: 'r1', internal: true }, ['from-r2'], bytes);
    expect(buildError(() => looping.build()).message).toBe(
      'the topology has a cycle through repartition topic "r2", then repartition topic "r1", back to where it started: records would loop forever',
    );
    const unread = new TopologyBuilder()
      .addRepartitionTopic({ name: 'r', partitions: undefined })
      .addSource('in', ['input'], bytes)
      .addSink('to-r', { name: 'r', internal: true }, ['in'], bytes);
    expect(buildError(() => unread.build()).message).toBe('the repartition topic "r" is never read: a repartition topic needs a sink and a source');
  });

  it('allows a loop through a user topic (a retry topic the application reads back), as Kafka Streams does', () => {
    const builder = new StreamsBuilder();
    builder.stream(['orders', 'orders-retry'], text).filter((_key, value) => value !== 'done').to('orders-retry');
    expect(builder.build().subtopologies).toHaveLength(1);
  });
});
