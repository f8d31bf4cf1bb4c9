import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGroupMetadataValue, encodeGroupMetadataValue, type GroupMetadataValue } from '../../../../broker/group/group-metadata-record.ts';
import {
  decodeConsumerOffsetsKey,
  decodeOffsetValue,
  encodeGroupMetadataKey,
  encodeOffsetKey,
  encodeOffsetValue,
  GROUP_METADATA_KEY_TYPE,
  OFFSET_COMMIT_KEY_TYPE,
} from '../../../../broker/group/offset-record.ts';

const int32 = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const nullableString = fc.option(fc.string(), { nil: null });

const groupMetadata: fc.Arbitrary<GroupMetadataValue> = fc.record({
  protocolType: nullableString,
  generationId: int32,
  protocolName: nullableString,
  leaderId: nullableString,
  currentStateTimestampMs: fc.maxSafeNat(),
  members: fc.array(
    fc.record({
      memberId: fc.string(),
      groupInstanceId: nullableString,
      clientId: fc.string(),
      clientHost: fc.string(),
      rebalanceTimeoutMs: int32,
      sessionTimeoutMs: int32,
      protocols: fc.array(fc.record({ name: fc.string(), metadata: fc.uint8Array({ maxLength: 64 }) }), { maxLength: 3 }),
      assignment: fc.uint8Array({ maxLength: 64 }),
    }),
    { maxLength: 5 },
  ),
});

describe('__consumer_offsets records', () => {
  it('round-trips offset commit keys and values', () => {
    fc.assert(
      fc.property(
        fc.record({ groupId: fc.string(), topic: fc.string(), partition: int32 }),
        fc.record({ offset: fc.maxSafeInteger(), metadata: fc.string(), commitTimestampMs: fc.maxSafeNat(), expireTimestampMs: fc.integer({ min: -1, max: 2 ** 50 }) }),
        (key, value) => {
          expect(decodeConsumerOffsetsKey(encodeOffsetKey(key))).toEqual({ type: OFFSET_COMMIT_KEY_TYPE, offset: key });
          expect(decodeOffsetValue(encodeOffsetValue(value))).toEqual(value);
        },
      ),
    );
  });

  it('round-trips group metadata keys and values', () => {
    fc.assert(
      fc.property(fc.string(), groupMetadata, (groupId, value) => {
        expect(decodeConsumerOffsetsKey(encodeGroupMetadataKey(groupId))).toEqual({ type: GROUP_METADATA_KEY_TYPE, groupId });
        expect(decodeGroupMetadataValue(encodeGroupMetadataValue(value))).toEqual(value);
      }),
    );
  });

  it('decodes member metadata and assignments into copies, not views of the record', () => {
    const value: GroupMetadataValue = {
      protocolType: 'consumer',
      generationId: 3,
      protocolName: 'range',
      leaderId: 'm1',
      currentStateTimestampMs: 1_700_000_000_000,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: null,
          clientId: 'c',
          clientHost: '/127.0.0.1',
          rebalanceTimeoutMs: 60_000,
          sessionTimeoutMs: 30_000,
          protocols: [{ name: 'range', metadata: new Uint8Array([1, 2, 3]) }],
          assignment: new Uint8Array([4, 5, 6]),
        },
      ],
    };
    const bytes = encodeGroupMetadataValue(value);
    const decoded = decodeGroupMetadataValue(bytes);
    bytes.fill(0);
    expect(decoded).toEqual(value);
  });

  it('skips key types this version does not read, and reads the ones it does among them', () => {
    // Key type 0 is Kafka's oldest offset commit key; 3 and up are for later record kinds.
    for (const keyType of [0, 3, 4, 99]) expect(decodeConsumerOffsetsKey(encode([keyType, 'g', 't', 0]))).toBeUndefined();
    expect(decodeConsumerOffsetsKey(encode([OFFSET_COMMIT_KEY_TYPE, 'g', 't', 0]))).toEqual({ type: 1, offset: { groupId: 'g', topic: 't', partition: 0 } });
    expect(decodeConsumerOffsetsKey(encode([GROUP_METADATA_KEY_TYPE, 'g']))).toEqual({ type: 2, groupId: 'g' });
  });

  it('refuses malformed keys and values of the types it reads', () => {
    expect(() => decodeConsumerOffsetsKey(encode('not an array'))).toThrow(/invariant/);
    expect(() => decodeConsumerOffsetsKey(encode([GROUP_METADATA_KEY_TYPE, 7]))).toThrow(/invariant/);
    expect(() => decodeConsumerOffsetsKey(encode([OFFSET_COMMIT_KEY_TYPE, 'g', 't', 'zero']))).toThrow(/invariant/);
    expect(() => decodeGroupMetadataValue(encode([2, 'consumer', 1, 'range', 'm', 0, []]))).toThrow(/version/);
    expect(() => decodeGroupMetadataValue(encode([1, 'consumer', 1, 'range', 'm', 0, [['m', null, 'c', 'h', 1, 1, [], 'not bytes']]]))).toThrow(/malformed/);
    expect(() => decodeOffsetValue(encode([1, 5, 'meta', 0]))).toThrow(/malformed/);
  });
});
