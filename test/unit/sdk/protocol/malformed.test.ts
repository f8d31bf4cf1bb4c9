import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  ProtocolDecodeError,
  UnsupportedApiError,
} from '../../../../sdk/protocol/mod.ts';

const batch = new Uint8Array(70).fill(7);

/** Valid frames (no size prefix) in classic and flexible encodings. */
const FRAMES = {
  produceV7: encodeRequest(ApiKey.Produce, 7, { correlationId: 11, clientId: 'client-a' }, {
    transactionalId: 'txn',
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: 'orders', partitionData: [{ index: 0, records: batch }, { index: 1, records: null }] }],
  }),
  produceV9: encodeRequest(ApiKey.Produce, 9, { correlationId: 12, clientId: null }, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 'orders', partitionData: [{ index: 3, records: batch }] }],
  }),
  metadataV12: encodeRequest(ApiKey.Metadata, 12, { correlationId: 13, clientId: 'c' }, {
    topics: [{ topicId: '7b3c1f0a-9d2e-4c85-a1b6-0f4e8d2c6a91', name: 'orders' }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: true,
  }),
};

function decodeError(run: () => unknown): ProtocolDecodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolDecodeError);
    return error as ProtocolDecodeError;
  }
  throw new Error('expected a ProtocolDecodeError, decoding succeeded');
}

/** Header bytes of a request: api key, version, correlation id, client id "c". */
function header(apiKey: number, version: number, flexible: boolean): number[] {
  return [0, apiKey, 0, version, 0, 0, 0, 42, 0, 1, 0x63, ...(flexible ? [0] : [])];
}

describe('malformed request frames fail with ProtocolDecodeError', () => {
  it.each(Object.entries(FRAMES))('%s truncated at every byte', (_name, frame) => {
    expect(decodeRequest(frame).header.correlationId).toBeGreaterThan(10);
    for (let cut = 0; cut < frame.length; cut++) {
      const error = decodeError(() => decodeRequest(frame.subarray(0, cut)));
      expect(error.errorName).toBe('CORRUPT_MESSAGE');
      expect(error.code).toBe(2);
    }
  });

  it.each(Object.entries(FRAMES))('%s with trailing garbage', (_name, frame) => {
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    const error = decodeError(() => decodeRequest(longer));
    expect(error.detail).toMatch(/trailing/);
    expect(error.correlationId).toBe(decodeRequest(frame).header.correlationId);
  });

  // DeleteGroups v0: groups_names [string]. The count is rejected where it stands, before any element.
  it.each([
    ['2^31-1', [0x7f, 0xff, 0xff, 0xff]],
    ['-2', [0xff, 0xff, 0xff, 0xfe]],
    ['2^31 (negative int32)', [0x80, 0, 0, 0]],
  ])('classic array count %s in a short frame', (_label, count) => {
    const frame = new Uint8Array([...header(42, 0, false), ...count, 0, 1, 0x61]);
    const error = decodeError(() => decodeRequest(frame));
    expect(error.offset).toBe(header(42, 0, false).length + 4);
  });

  it('compact array count of 2^32-2 elements (uvarint 0xffffffff) in a short frame', () => {
    // DeleteGroups v2 (flexible): compact array.
    const frame = new Uint8Array([...header(42, 2, true), 0xff, 0xff, 0xff, 0xff, 0x0f, 2, 0x61, 0, 0]);
    const error = decodeError(() => decodeRequest(frame));
    expect(error.offset).toBe(header(42, 2, true).length + 5);
  });

  it('string and bytes lengths beyond the frame', () => {
    // FindCoordinator v0: key string, declared 0x7fff bytes.
    decodeError(() => decodeRequest(new Uint8Array([...header(10, 0, false), 0x7f, 0xff, 0x61])));
    // SaslAuthenticate v0: auth_bytes, declared 2^31-1 bytes.
    const bytesError = decodeError(() => decodeRequest(new Uint8Array([...header(36, 0, false), 0x7f, 0xff, 0xff, 0xff, 1])));
    expect(bytesError.offset).toBe(header(36, 0, false).length + 4);
    // A non-nullable string sent as null (-1) and a negative length (-2).
    decodeError(() => decodeRequest(new Uint8Array([...header(10, 0, false), 0xff, 0xff])));
    decodeError(() => decodeRequest(new Uint8Array([...header(10, 0, false), 0xff, 0xfe])));
  });

  it('bad varints: longer than 5 bytes, above 32 bits, truncated', () => {
    const flexHeader = header(42, 2, true);
    decodeError(() => decodeRequest(new Uint8Array([...flexHeader, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01])));
    decodeError(() => decodeRequest(new Uint8Array([...flexHeader, 0xff, 0xff, 0xff, 0xff, 0x7f])));
    decodeError(() => decodeRequest(new Uint8Array([...flexHeader, 0x80])));
  });

  it('unknown tagged fields are skipped; a tagged size beyond the frame is an error', () => {
    const frame = FRAMES.produceV9;
    // The body's own tagged section is its last byte (0 = no tags). Replace it with tags 7 and 99.
    const withTags = new Uint8Array([...frame.subarray(0, frame.length - 1), 2, 7, 3, 1, 2, 3, 99, 0]);
    expect(decodeRequest(withTags).body).toEqual(decodeRequest(frame).body);
    const overrun = new Uint8Array([...frame.subarray(0, frame.length - 1), 1, 7, 100, 1, 2]);
    decodeError(() => decodeRequest(overrun));
  });

  it('a known tagged field is decoded within its declared size only', () => {
    const partition = {
      partitionIndex: 0,
      errorCode: 0,
      highWatermark: 1n,
      lastStableOffset: 1n,
      logStartOffset: 0n,
      divergingEpoch: { epoch: -1, endOffset: -1n },
      currentLeader: { leaderId: 5, leaderEpoch: 6 },
      snapshotId: { endOffset: -1n, epoch: -1 },
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: null,
    };
    const frame = encodeResponse(ApiKey.Fetch, 12, 1, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: 'orders', topicId: '00000000-0000-0000-0000-000000000000', partitions: [partition] }],
      nodeEndpoints: [],
    });
    expect(decodeResponse(ApiKey.Fetch, 12, frame).body.responses[0]?.partitions[0]?.currentLeader).toEqual({ leaderId: 5, leaderEpoch: 6 });
    // Tag 1 (CurrentLeader), size 9: leaderId int32, leaderEpoch int32, empty tag section.
    const tagged = [1, 9, 0, 0, 0, 5, 0, 0, 0, 6, 0];
    const at = Buffer.from(frame).indexOf(Buffer.from(tagged));
    expect(at).toBeGreaterThan(0);
    const shrunk = frame.slice();
    shrunk[at + 1] = 2;
    const error = decodeError(() => decodeResponse(ApiKey.Fetch, 12, shrunk));
    expect(error.offset).toBeLessThanOrEqual(at + 4);
  });

  it('random corruption of valid frames only ever yields ProtocolDecodeError or UnsupportedApiError', () => {
    const frames = Object.values(FRAMES);
    fc.assert(
      fc.property(
        fc.constantFrom(...frames),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (frame, flips, cut) => {
          const mutated = frame.slice(0, frame.length - (cut % 4));
          for (const [at, value] of flips) mutated[at % mutated.length] = value;
          try {
            decodeRequest(mutated);
          } catch (error) {
            if (!(error instanceof ProtocolDecodeError) && !(error instanceof UnsupportedApiError)) throw error;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
