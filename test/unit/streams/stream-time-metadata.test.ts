import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeStreamTime, encodeStreamTime } from '../../../streams/runtime/stream-time-metadata.ts';

describe('stream time in offset-commit metadata', () => {
  it('is base64 of version 1 and a big-endian int64, as Kafka Streams writes it', () => {
    expect(encodeStreamTime(0)).toBe('AQAAAAAAAAAA');
    expect(encodeStreamTime(1_000)).toBe('AQAAAAAAAAPo');
    expect(encodeStreamTime(-1)).toBe('Af//////////');
  });

  it('round-trips every millisecond timestamp', () => {
    fc.assert(fc.property(fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }), (ms) => decodeStreamTime(encodeStreamTime(ms)) === ms));
  });

  it('reads anything else as no stream time', () => {
    for (const other of [null, '', 'not base64!', 'AgAAAAAAAAPo', 'AQAAAAAAAAM=', 'some client metadata']) expect(decodeStreamTime(other)).toBeUndefined();
  });
});
