import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorName } from '../../../../sdk/protocol/error-codes.ts';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { Acks } from '../../../../broker/log/acks.ts';
import { concatBytes, makeBatch, resealBatch } from '../../../helpers/batch-fixture.ts';
import { openLog, tempDir } from './log-test-support.ts';

const cases: Array<[string, () => Uint8Array, ErrorName]> = [
  [
    'a flipped payload byte (CRC mismatch)',
    () => {
      const b = makeBatch({ payloadBytes: 50 });
      b[70]! ^= 0x01;
      return b;
    },
    'CORRUPT_MESSAGE',
  ],
  ['magic 1', () => withByte(makeBatch(), 16, 1), 'UNSUPPORTED_FOR_MESSAGE_FORMAT'],
  ['magic 7', () => withByte(makeBatch(), 16, 7), 'CORRUPT_MESSAGE'],
  ['batchLength below the header', () => withInt32(makeBatch(), 8, 48), 'CORRUPT_MESSAGE'],
  ['batchLength past the input', () => withInt32(makeBatch(), 8, 1000), 'CORRUPT_MESSAGE'],
  ['trailing garbage after a valid batch', () => concatBytes([makeBatch(), new Uint8Array(7)]), 'CORRUPT_MESSAGE'],
  ['a batch larger than maxMessageBytes', () => makeBatch({ payloadBytes: 1000 }), 'MESSAGE_TOO_LARGE'],
  [
    'recordsCount 0',
    () => {
      const b = withInt32(makeBatch(), 57, 0);
      b.set([0xff, 0xff, 0xff, 0xff], 23);
      resealBatch(b);
      return b;
    },
    'INVALID_RECORD',
  ],
  [
    'lastOffsetDelta inconsistent with recordsCount',
    () => {
      const b = withInt32(makeBatch({ recordsCount: 3 }), 23, 5);
      resealBatch(b);
      return b;
    },
    'INVALID_RECORD',
  ],
  ['no bytes at all', () => new Uint8Array(0), 'INVALID_RECORD'],
];

function withByte(b: Uint8Array, at: number, value: number): Uint8Array {
  b[at] = value;
  return b;
}

function withInt32(b: Uint8Array, at: number, value: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setInt32(at, value);
  return b;
}

describe('PartitionLog append validation', () => {
  for (const [name, build, errorName] of cases) {
    it(`rejects ${name} with ${errorName} and writes nothing`, async () => {
      const dir = tempDir();
      const log = await openLog({ dir, config: { maxMessageBytes: 1000 } });
      await log.append(makeBatch({ seed: 9 }), Acks.all);
      const logFile = path.join(dir, '00000000000000000000.log');
      const sizeBefore = fs.statSync(logFile).size;
      // The invalid batch comes after a valid one: the whole append must be refused.
      const invalid = build();
      const input = invalid.length === 0 ? invalid : concatBytes([makeBatch({ seed: 1 }), invalid]);
      const error = await log.append(input, Acks.all).catch((e: unknown) => e);
      expect(isKafkaError(error, errorName), String(error)).toBe(true);
      expect(fs.statSync(logFile).size).toBe(sizeBefore);
      expect(log.logEndOffset).toBe(1);
      expect((await log.append(makeBatch(), Acks.all)).baseOffset).toBe(1);
      await log.close();
    });
  }
});
