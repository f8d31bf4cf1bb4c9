import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import { nullable, StreamsBuilder } from '../../../streams/mod.ts';
import { valueBytes, type OutputRecord } from '../../../streams/runtime/record-collector.ts';
import { testDriver, testTask } from './helpers/test-driver.ts';

type Side = 'left' | 'right' | 'stream';

interface Update {
  side: Side;
  key: string;
  /** null: a tombstone (tables) or a null-valued record (the stream). */
  value: number | null;
  timestamp: number;
}

type Kind = 'inner' | 'left' | 'outer';
const kinds: readonly Kind[] = ['inner', 'left', 'outer'];

function hasRow(kind: Kind, l: number | undefined, r: number | undefined): boolean {
  if (l === undefined && r === undefined) return false;
  if (kind === 'inner') return l !== undefined && r !== undefined;
  if (kind === 'left') return l !== undefined;
  return true;
}

const joined = (l: number | undefined, r: number | undefined): string => `${l ?? 'null'}|${r ?? 'null'}`;

/**
 * The joins done the obvious way: both tables as maps of value and timestamp; after each table
 * update, each join kind emits the key's row (or a delete) when the key had a row before or has
 * one after, stamped with the larger timestamp of both sides. Stream records read the left table
 * as it is then. The right table is mapped ×10 on its way into the joins.
 */
function reference(updates: readonly Update[]) {
  const tables = { left: new Map<string, { value: number; timestamp: number }>(), right: new Map<string, { value: number; timestamp: number }>() };
  const emitted: Record<Kind, string[]> = { inner: [], left: [], outer: [] };
  const streamInner: string[] = [];
  const streamLeft: string[] = [];
  for (const u of updates) {
    if (u.side === 'stream') {
      if (u.value === null) continue;
      const found = tables.left.get(u.key);
      if (found !== undefined) streamInner.push(`${u.key}=${u.value}*${found.value}@${u.timestamp}`);
      streamLeft.push(`${u.key}=${u.value}*${found?.value ?? 'null'}@${u.timestamp}`);
      continue;
    }
    const table = tables[u.side];
    const before = table.get(u.key);
    if (u.value === null && before === undefined) continue;
    const other = (u.side === 'left' ? tables.right : tables.left).get(u.key);
    const values = (mine: number | undefined) => {
      const otherValue = other?.value;
      return u.side === 'left' ? { l: mine, r: otherValue === undefined ? undefined : otherValue * 10 } : { l: otherValue, r: mine === undefined ? undefined : mine * 10 };
    };
    const old = values(before?.value);
    const now = values(u.value ?? undefined);
    if (u.value === null) table.delete(u.key);
    else table.set(u.key, { value: u.value, timestamp: u.timestamp });
    const timestamp = other === undefined ? u.timestamp : Math.max(u.timestamp, other.timestamp);
    for (const kind of kinds) {
      const rowBefore = hasRow(kind, old.l, old.r);
      const rowNow = hasRow(kind, now.l, now.r);
      if (!rowBefore && !rowNow) continue;
      emitted[kind].push(`${u.key}=${rowNow ? joined(now.l, now.r) : 'null'}@${timestamp}`);
    }
  }
  const final: Record<Kind, Map<string, string>> = { inner: new Map(), left: new Map(), outer: new Map() };
  for (const kind of kinds) {
    for (const key of new Set([...tables.left.keys(), ...tables.right.keys()])) {
      const l = tables.left.get(key)?.value;
      const r = tables.right.get(key)?.value;
      const rr = r === undefined ? undefined : r * 10;
      if (hasRow(kind, l, rr)) final[kind].set(key, joined(l, rr));
    }
  }
  return { emitted, final, streamInner, streamLeft };
}

const updatesArb = fc.array(
  fc.record({
    side: fc.constantFrom<Side>('left', 'right', 'stream'),
    key: fc.constantFrom('a', 'b', 'c'),
    value: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 3 }),
    timestamp: fc.integer({ min: 0, max: 100 }),
  }),
  { minLength: 1, maxLength: 40 },
);

describe('table joins against a brute-force model', () => {
  it('inner, left and outer table-table joins emit the same rows and deletes with the same timestamps, and end with the same table; stream-table joins see the same left table', async () => {
    await fc.assert(
      fc.asyncProperty(updatesArb, fc.boolean(), async (updates, cached) => {
        const numbers = { key: stringSerde, value: jsonSerde<number>() };
        const builder = new StreamsBuilder();
        const left = builder.table('left', { ...numbers, name: 'left', cached });
        const right = builder.table('right', { ...numbers, name: 'right', cached }).mapValues((v) => v * 10);
        const joiner = (l: number | null, r: number | null) => joined(l ?? undefined, r ?? undefined);
        left.join(right, joiner, { value: stringSerde }).toStream().to('inner', { value: nullable(stringSerde) });
        left.leftJoin(right, joiner, { value: stringSerde }).toStream().to('left-join', { value: nullable(stringSerde) });
        left.outerJoin(right, joiner, { value: stringSerde }).toStream().to('outer', { value: nullable(stringSerde) });
        const stream = builder.stream('stream', { key: stringSerde, value: nullable(jsonSerde<number>()) });
        stream.join(left, (v, l) => `${v}*${l}`, { value: stringSerde }).to('stream-inner');
        stream.leftJoin(left, (v, l) => `${v}*${l ?? 'null'}`, { value: stringSerde }).to('stream-left');
        const driver = testDriver(builder.build());
        const inputs = {
          left: driver.inputTopic('left', { key: stringSerde, value: nullable(jsonSerde<number>()) }),
          right: driver.inputTopic('right', { key: stringSerde, value: nullable(jsonSerde<number>()) }),
          stream: driver.inputTopic('stream', { key: stringSerde, value: nullable(jsonSerde<number>()) }),
        };
        for (const u of updates) await inputs[u.side].pipe(u.key, u.value, { timestamp: u.timestamp });
        const expected = reference(updates);
        const read = (topic: string) =>
          driver
            .outputTopic(topic, { key: stringSerde, value: nullable(stringSerde) })
            .readRecords()
            .map((r) => `${r.key}=${r.value}@${r.timestamp}`);
        const topics: Record<Kind, string> = { inner: 'inner', left: 'left-join', outer: 'outer' };
        for (const kind of kinds) {
          const lines = read(topics[kind]);
          expect(lines).toEqual(expected.emitted[kind]);
          const table = new Map<string, string>();
          for (const line of lines) {
            const [key, rest] = line.split('=') as [string, string];
            const value = rest.slice(0, rest.lastIndexOf('@'));
            if (value === 'null') table.delete(key);
            else table.set(key, value);
          }
          expect(table).toEqual(expected.final[kind]);
        }
        expect(read('stream-inner')).toEqual(expected.streamInner);
        expect(read('stream-left')).toEqual(expected.streamLeft);
        driver.close();
      }),
      { numRuns: 150 },
    );
  });

  it('with cached tables committed every few updates, each join ends with the same table', async () => {
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    await fc.assert(
      fc.asyncProperty(updatesArb, fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 40 }), async (updates, batches) => {
        const numbers = { key: stringSerde, value: jsonSerde<number>() };
        const builder = new StreamsBuilder();
        const left = builder.table('left', { ...numbers, name: 'left' });
        const right = builder.table('right', { ...numbers, name: 'right' }).mapValues((v) => v * 10);
        const joiner = (l: number | null, r: number | null) => joined(l ?? undefined, r ?? undefined);
        left.join(right, joiner, { value: stringSerde }).toStream().to('inner', { value: nullable(stringSerde) });
        left.leftJoin(right, joiner, { value: stringSerde }).toStream().to('left-join', { value: nullable(stringSerde) });
        left.outerJoin(right, joiner, { value: stringSerde }).toStream().to('outer', { value: nullable(stringSerde) });
        const sent: OutputRecord[] = [];
        const task = testTask(builder.build(), sent);
        const tableUpdates = updates.filter((u) => u.side !== 'stream');
        let offset = 0;
        let batch = 0;
        let inBatch = 0;
        for (const u of tableUpdates) {
          task.accept({ topic: u.side, partition: 0, offset: offset++, timestamp: u.timestamp, key: encoder.encode(u.key), value: u.value === null ? null : encoder.encode(String(u.value)), headers: [] });
          if (++inBatch >= batches[batch % batches.length]!) {
            task.prepareCommit();
            task.commitSucceeded();
            batch++;
            inBatch = 0;
          }
        }
        task.prepareCommit();
        task.commitSucceeded();
        const expected = reference(tableUpdates);
        const topics: Record<Kind, string> = { inner: 'inner', left: 'left-join', outer: 'outer' };
        for (const kind of kinds) {
          const table = new Map<string, string>();
          for (const r of sent.filter((o) => o.topic === topics[kind])) {
            const key = decoder.decode(r.key!);
            const value = valueBytes(r.value);
            if (value === null) table.delete(key);
            else table.set(key, decoder.decode(value));
          }
          expect(table).toEqual(expected.final[kind]);
        }
        task.close();
      }),
      { numRuns: 500 },
    );
  });
});
