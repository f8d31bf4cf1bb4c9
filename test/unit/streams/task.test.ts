import { describe, expect, it } from 'vitest';
import { stringSerde } from '../../../sdk/mod.ts';
import { StreamsBuilder, type Topology } from '../../../streams/mod.ts';
import { type OutputRecord, valueBytes } from '../../../streams/runtime/record-collector.ts';
import { type RecordFailure, Task } from '../../../streams/runtime/task.ts';
import { encodeStreamTime } from '../../../streams/runtime/stream-time-metadata.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A promise whose resolution the test controls, to hold one record in flight. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function taskOf(topology: Topology, maxInFlightRecords = 100) {
  const sent: OutputRecord[] = [];
  const failures: RecordFailure[] = [];
  const task = new Task(
    { subtopology: 0, partition: 3 },
    topology.subtopologies[0]!,
    (name) => topology.childrenOf(name),
    {
      applicationId: 'app',
      collector: { send: (r) => void sent.push(r), partitionCount: () => 1 },
      topicName: (ref) => (ref.internal ? `app-${ref.name}` : ref.name),
      openStore: () => {
        throw new Error('no stores in these tests');
      },
      onFailure: (f) => void failures.push(f),
      nowMs: () => 0,
    },
    { maxInFlightRecords },
  );
  let offset = 0;
  const accept = (key: string, value: string, timestamp = offset) =>
    task.accept({ topic: 'in', partition: 3, offset: offset++, timestamp, key: encoder.encode(key), value: encoder.encode(value), headers: [] });
  const values = () => sent.map((r) => decoder.decode(valueBytes(r.value)!));
  return { task, accept, values, failures };
}

describe('Task', () => {
  it('keeps per-key input order around async stages while records of other keys overtake', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const builder = new StreamsBuilder();
    builder
      .stream('in', { key: stringSerde, value: stringSerde })
      .mapValues((value) => {
        const g = gates.get(value);
        return g === undefined ? value : g.promise.then(() => value);
      })
      .to('out', { value: stringSerde });
    const { task, accept, values } = taskOf(builder.build());
    gates.set('a1', gate());
    gates.set('b2', gate());
    accept('a', 'a1');
    accept('b', 'b1');
    accept('a', 'a2');
    accept('b', 'b2');
    accept('b', 'b3');
    accept('c', 'c1');
    expect(values()).toEqual(['b1', 'c1']);
    expect(task.inFlight).toBe(4);
    gates.get('b2')!.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(values()).toEqual(['b1', 'c1', 'b2', 'b3']);
    gates.get('a1')!.open();
    await task.drained();
    expect(values()).toEqual(['b1', 'c1', 'b2', 'b3', 'a1', 'a2']);
    expect(task.committableOffsets()).toEqual([{ topic: 'in', partition: 3, offset: 6, metadata: encodeStreamTime(5) }]);
    expect(task.streamTimeMs).toBe(5);
  });

  it('bounds the records in flight and wakes a waiting reader once one finishes', async () => {
    const gates = [gate(), gate()];
    const builder = new StreamsBuilder();
    builder
      .stream('in', { key: stringSerde, value: stringSerde })
      .mapValues((value) => gates[Number(value)]!.promise.then(() => value))
      .to('out', { value: stringSerde });
    const { task, accept } = taskOf(builder.build(), 2);
    accept('x', '0');
    expect(task.isFull).toBe(false);
    accept('y', '1');
    expect(task.isFull).toBe(true);
    let woke = false;
    const room = task.whenNotFull().then(() => (woke = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(woke).toBe(false);
    gates[1]!.open();
    await room;
    expect(task.inFlight).toBe(1);
    gates[0]!.open();
    await task.drained();
    expect(task.inFlight).toBe(0);
  });

  it('fails a record whose async stage rejects, once its other work settled, and goes on with the next', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('in', { key: stringSerde, value: stringSerde })
      .mapValues((value) => (value === 'bad' ? Promise.reject(new Error('rejected')) : value))
      .to('out', { value: stringSerde });
    const { task, accept, values, failures } = taskOf(builder.build());
    accept('k', 'bad');
    accept('k', 'good');
    await task.drained();
    expect(values()).toEqual(['good']);
    expect(failures.map((f) => [f.kind, f.job.offset, (f.error as Error).message])).toEqual([['processing', 0, 'rejected']]);
  });

  it('refuses a forward after the record finished (work left behind instead of returned)', async () => {
    const builder = new StreamsBuilder();
    let late: (() => void) | undefined;
    builder
      .stream('in', { key: stringSerde, value: stringSerde })
      .process<string, string>(() => {
        let ctx!: Parameters<NonNullable<import('../../../streams/mod.ts').Processor<string, string, string, string>['init']>>[0];
        return {
          init: (c) => void (ctx = c),
          process: (record) => {
            late = () => ctx.forward(record.withValue('late'));
            return Promise.resolve();
          },
        };
      }, { value: stringSerde, key: stringSerde })
      .mapValues((v) => Promise.resolve(v), { value: stringSerde })
      .to('out');
    const { task, accept } = taskOf(builder.build());
    accept('k', 'v');
    await task.drained();
    expect(() => late!()).toThrow(/forwarded after its processing finished/);
  });
});
