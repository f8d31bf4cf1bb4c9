import fc from 'fast-check';
import type { RecordHeader, RecordInput } from '../../../../sdk/record/mod.ts';

/** Shared fast-check generators for record tests. */
export const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null, freq: 4 });

export const header: fc.Arbitrary<RecordHeader> = fc.record({
  key: fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })),
  value: bytesOrNull,
});

/** Timestamps from far in the past to far in the future, so deltas span well beyond 32 bits. */
export const wideTimestamp = fc.oneof(
  fc.integer({ min: 1_500_000_000_000, max: 1_500_000_100_000 }),
  fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
);

export const recordInput: fc.Arbitrary<RecordInput> = fc.record({
  key: bytesOrNull,
  // Text values (written as UTF-8 straight into the batch), lone surrogates included.
  value: fc.oneof(bytesOrNull, fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 })),
  headers: fc.array(header, { maxLength: 4 }),
  timestamp: wideTimestamp,
});
