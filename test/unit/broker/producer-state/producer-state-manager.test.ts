import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { buildControlBatch, RecordBatchBuilder } from '../../../../sdk/record/mod.ts';
import { AppendOrigin, ProducerStateManager } from '../../../../broker/producer-state/producer-state-manager.ts';
import { incrementSequence, INT32_MAX } from '../../../../broker/producer-state/sequence-number.ts';

function batch(producerId: number, producerEpoch: number, baseSequence: number, records: number, isTransactional = false): Uint8Array {
  const builder = new RecordBatchBuilder({ producerId, producerEpoch, baseSequence, isTransactional });
  for (let i = 0; i < records; i++) builder.append({ value: new Uint8Array([i]), timestamp: 1 });
  return builder.seal();
}

/** Appends through prepare/apply like the log does, returning the outcome name and the offset assigned. */
class Harness {
  readonly state = new ProducerStateManager('t-0');
  logEnd = 0;

  append(bytes: Uint8Array, origin: (typeof AppendOrigin)[keyof typeof AppendOrigin] = AppendOrigin.client): { outcome: string; baseOffset: number } {
    try {
      const prepared = this.state.prepare(bytes, this.logEnd, origin, 0);
      if (prepared.kind === 'duplicate') return { outcome: 'duplicate', baseOffset: prepared.baseOffset };
      const base = this.logEnd;
      const dv = new DataView(bytes.buffer, bytes.byteOffset);
      this.logEnd += dv.getInt32(23) + 1;
      this.state.apply(prepared);
      return { outcome: 'appended', baseOffset: base };
    } catch (error) {
      if (isKafkaError(error)) return { outcome: error.errorName, baseOffset: -1 };
      throw error;
    }
  }
}

describe('sequence numbers', () => {
  it('wrap from INT32_MAX to 0', () => {
    expect(incrementSequence(INT32_MAX, 1)).toBe(0);
    expect(incrementSequence(INT32_MAX - 1, 3)).toBe(1);
    expect(incrementSequence(5, 3)).toBe(8);
  });
});

describe('ProducerStateManager sequence rules', () => {
  it('accepts the next sequence, answers a retry of any of the last five batches with its offset, and rejects gaps and stale epochs', () => {
    const h = new Harness();
    expect(h.append(batch(7, 0, 0, 2)).outcome).toBe('appended');
    expect(h.append(batch(7, 0, 2, 3)).outcome).toBe('appended');
    expect(h.append(batch(7, 0, 0, 2))).toEqual({ outcome: 'duplicate', baseOffset: 0 });
    expect(h.append(batch(7, 0, 2, 3))).toEqual({ outcome: 'duplicate', baseOffset: 2 });
    expect(h.append(batch(7, 0, 6, 1)).outcome).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(h.append(batch(7, 0, 1, 1)).outcome).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(h.append(batch(7, 1, 3, 1)).outcome).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(h.append(batch(7, 1, 0, 1)).outcome).toBe('appended');
    expect(h.append(batch(7, 0, 5, 1)).outcome).toBe('INVALID_PRODUCER_EPOCH');
  });

  it('takes any sequence from a producer it has no state for (KIP-360), e.g. after expiry', () => {
    const h = new Harness();
    expect(h.append(batch(9, 3, 1234, 1)).outcome).toBe('appended');
    expect(h.append(batch(9, 3, 1235, 1)).outcome).toBe('appended');
    expect(h.state.expire(10, 5)).toBe(1);
    expect(h.append(batch(9, 3, 77, 1)).outcome).toBe('appended');
  });

  it('continues across the INT32_MAX wrap', () => {
    const h = new Harness();
    expect(h.append(batch(1, 0, INT32_MAX - 1, 2)).outcome).toBe('appended');
    expect(h.append(batch(1, 0, 0, 1)).outcome).toBe('appended');
  });

  it('refuses control batches from clients and a non-transactional write inside an open transaction', () => {
    const h = new Harness();
    const marker = buildControlBatch({ producerId: 1, producerEpoch: 0, type: 'COMMIT', coordinatorEpoch: 0, timestamp: 1 });
    expect(h.append(marker).outcome).toBe('INVALID_RECORD');
    expect(h.append(batch(1, 0, 0, 1, true)).outcome).toBe('appended');
    expect(h.append(batch(1, 0, 1, 1, false)).outcome).toBe('INVALID_TXN_STATE');
  });

  it('holds the last stable offset at an open transaction until its marker is below the high watermark', () => {
    const h = new Harness();
    h.append(batch(2, 0, 0, 1));
    h.append(batch(1, 0, 0, 2, true));
    h.append(batch(2, 0, 1, 1));
    expect(h.state.firstUnstableOffset(h.logEnd)).toBe(1);
    const abort = h.append(buildControlBatch({ producerId: 1, producerEpoch: 0, type: 'ABORT', coordinatorEpoch: 0, timestamp: 1 }), AppendOrigin.coordinator);
    expect(abort).toEqual({ outcome: 'appended', baseOffset: 4 });
    expect(h.state.firstUnstableOffset(4)).toBe(1);
    expect(h.state.firstUnstableOffset(5)).toBe(5);
  });

  // The model: per producer, its epoch and the list of every accepted batch (firstSeq, lastSeq, baseOffset).
  it('agrees with a model of the KIP-98 rules over random operation sequences', () => {
    const op = fc.record({
      producerId: fc.integer({ min: 0, max: 2 }),
      epochDelta: fc.constantFrom(-1, 0, 0, 0, 1),
      seqKind: fc.constantFrom('next', 'next', 'next', 'retry', 'gap', 'zero'),
      retryBack: fc.integer({ min: 0, max: 7 }),
      records: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const h = new Harness();
        const model = new Map<number, { epoch: number; batches: { first: number; last: number; base: number }[] }>();
        for (const o of ops) {
          const m = model.get(o.producerId);
          const epoch = Math.max(0, (m?.epoch ?? 0) + o.epochDelta);
          const last = m?.batches.at(-1)?.last ?? -1;
          let first: number;
          let records = o.records;
          if (o.seqKind === 'retry' && m && m.batches.length > 0) {
            const b = m.batches[Math.max(0, m.batches.length - 1 - o.retryBack)]!;
            first = b.first;
            records = b.last - b.first + 1;
          } else if (o.seqKind === 'gap') first = last + 2;
          else if (o.seqKind === 'zero') first = 0;
          else first = last + 1;
          let expected: string;
          let expectedBase = -1;
          if (m === undefined) expected = 'appended';
          else if (epoch < m.epoch) expected = 'INVALID_PRODUCER_EPOCH';
          else {
            const recent = epoch === m.epoch ? m.batches.slice(-5).find((b) => b.first === first && b.last === first + records - 1) : undefined;
            if (recent) {
              expected = 'duplicate';
              expectedBase = recent.base;
            } else if (epoch > m.epoch) expected = first === 0 ? 'appended' : 'OUT_OF_ORDER_SEQUENCE_NUMBER';
            else expected = first === last + 1 ? 'appended' : 'OUT_OF_ORDER_SEQUENCE_NUMBER';
          }
          const logEnd = h.logEnd;
          const result = h.append(batch(o.producerId, epoch, first, records));
          expect(result.outcome).toBe(expected);
          if (expected === 'duplicate') expect(result.baseOffset).toBe(expectedBase);
          if (expected === 'appended') {
            const entry = m && m.epoch === epoch ? m : { epoch, batches: [] };
            entry.batches.push({ first, last: first + records - 1, base: logEnd });
            model.set(o.producerId, entry);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
