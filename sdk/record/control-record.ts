import { KafkaError } from '../protocol/kafka-error.ts';
import type { Record } from './record.ts';
import { RecordBatchBuilder } from './record-batch-builder.ts';

/** Transaction marker type, the int16 after the version in a control record's key. */
export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
} as const;
export type ControlRecordTypeName = keyof typeof ControlRecordType;

export interface ControlBatchOptions {
  producerId: number;
  producerEpoch: number;
  type: ControlRecordTypeName;
  coordinatorEpoch: number;
  timestamp: number;
  baseOffset?: number;
}

export interface ControlRecord {
  version: number;
  type: ControlRecordTypeName;
  /** Absent when the value is shorter than Kafka's EndTransactionMarker schema (clients only read the key). */
  coordinatorEpoch: number | undefined;
}

const CONTROL_KEY_BYTES = 4;
const CONTROL_VALUE_BYTES = 6;

/**
 * A transaction marker batch: attributes 0x30 (transactional + control), baseSequence -1, and one
 * record whose key is version:int16 = 0, type:int16, and whose value is Kafka's EndTransactionMarker
 * value: version:int16 = 0, coordinatorEpoch:int32.
 */
export function buildControlBatch(options: ControlBatchOptions): Uint8Array {
  const key = new Uint8Array(CONTROL_KEY_BYTES);
  new DataView(key.buffer).setInt16(2, ControlRecordType[options.type]);
  const value = new Uint8Array(CONTROL_VALUE_BYTES);
  new DataView(value.buffer).setInt32(2, options.coordinatorEpoch);
  const builder = new RecordBatchBuilder({
    baseOffset: options.baseOffset ?? 0,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
    initialCapacityBytes: 128,
  });
  builder.append({ key, value, timestamp: options.timestamp });
  return builder.seal();
}

/** Reads the marker in a control batch's record; a malformed key is CORRUPT_MESSAGE. */
export function parseControlRecord(record: Record): ControlRecord {
  const { key, value } = record;
  if (key === null || key.length < CONTROL_KEY_BYTES) {
    throw new KafkaError('CORRUPT_MESSAGE', `control record key must be ${CONTROL_KEY_BYTES} bytes, got ${key?.length ?? 'null'}`);
  }
  const keyView = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const version = keyView.getInt16(0);
  const typeValue = keyView.getInt16(2);
  const type = typeValue === ControlRecordType.ABORT ? 'ABORT' : typeValue === ControlRecordType.COMMIT ? 'COMMIT' : undefined;
  if (type === undefined) throw new KafkaError('CORRUPT_MESSAGE', `unknown control record type ${typeValue}`);
  const coordinatorEpoch =
    value !== null && value.length >= CONTROL_VALUE_BYTES
      ? new DataView(value.buffer, value.byteOffset, value.byteLength).getInt32(2)
      : undefined;
  return { version, type, coordinatorEpoch };
}
