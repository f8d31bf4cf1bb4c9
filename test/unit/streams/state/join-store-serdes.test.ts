import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { jsonSerde, stringSerde } from '../../../../sdk/mod.ts';
import { binaryOf, compareBinary } from '../../../../streams/state/binary-string.ts';
import { joinSideKeySerde, joinSideValuesSerde } from '../../../../streams/state/outer-join-store-serdes.ts';
import { valueListSerde } from '../../../../streams/state/value-list-serde.ts';

const sideArb = fc.constantFrom('left' as const, 'right' as const);
const timestampArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('join store serdes', () => {
  it('a value list round-trips, and every truncation of it is CORRUPT_MESSAGE', () => {
    const serde = valueListSerde(stringSerde);
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 8 }), (values) => {
        const bytes = serde.serialize(values);
        expect(serde.deserialize(bytes)).toEqual(values);
        for (let cut = 0; cut < bytes.length; cut++) {
          expect(() => serde.deserialize(bytes.subarray(0, cut))).toThrow(KafkaError);
        }
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        expect(() => serde.deserialize(longer)).toThrow(/bytes after the last value/);
      }),
    );
  });

  it('outer-join keys round-trip and sort by side, then timestamp, whatever the key', () => {
    const serde = joinSideKeySerde(stringSerde);
    const keyArb = fc.record({ side: sideArb, timestampMs: timestampArb, key: fc.string() });
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(serde.deserialize(serde.serialize(a))).toEqual(a);
        const order = Math.sign(compareBinary(binaryOf(serde.serialize(a)), binaryOf(serde.serialize(b))));
        if (a.side !== b.side) expect(order).toBe(a.side === 'left' ? -1 : 1);
        else if (a.timestampMs !== b.timestampMs) expect(order).toBe(a.timestampMs < b.timestampMs ? -1 : 1);
        // A bound without a key sorts before every key of its side and timestamp.
        const bound = binaryOf(serde.serialize({ side: a.side, timestampMs: a.timestampMs }));
        expect(compareBinary(bound, binaryOf(serde.serialize(a)))).toBeLessThanOrEqual(0);
      }),
    );
    expect(() => serde.deserialize(new Uint8Array(8))).toThrow(KafkaError);
    expect(() => serde.deserialize(new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0, 1]))).toThrow(/side byte 7/);
  });

  it('outer-join values round-trip with their side, each side with its own serde', () => {
    const serde = joinSideValuesSerde(stringSerde, jsonSerde<{ n: number }>());
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), fc.array(fc.integer(), { minLength: 1, maxLength: 5 }), (lefts, rights) => {
        const left = { side: 'left' as const, values: lefts };
        const right = { side: 'right' as const, values: rights.map((n) => ({ n })) };
        expect(serde.deserialize(serde.serialize(left))).toEqual(left);
        expect(serde.deserialize(serde.serialize(right))).toEqual(right);
      }),
    );
  });
});
