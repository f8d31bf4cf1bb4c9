/** One record header. Kafka allows repeated keys; order is preserved. A null value is legal. */
export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** A decoded record. `offset` and `timestamp` are absolute (batch base plus the record's deltas). */
export interface Record {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly RecordHeader[];
}

/**
 * What a producer appends; the builder assigns the offset delta and fills in a missing timestamp.
 * A value given as a string is written as its UTF-8 bytes straight into the batch, without an
 * intermediate copy (text serdes hand values over as text).
 */
export interface RecordInput {
  key?: Uint8Array | null;
  value?: Uint8Array | string | null;
  headers?: readonly RecordHeader[];
  timestamp?: number;
}

/** Batch attribute bit 3: who set the timestamps. */
export const TimestampType = {
  CreateTime: 0,
  LogAppendTime: 1,
} as const;
export type TimestampTypeValue = (typeof TimestampType)[keyof typeof TimestampType];
