import { createRequire } from 'node:module';
import type { RecordHeader } from '../../../../sdk/record/mod.ts';

/** kafkajs 2.2.4's own RecordBatch encoder and decoder, used as the byte-level oracle. */
const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsDecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: { [key: string]: Buffer | null | (Buffer | null)[] };
  isControlRecord: boolean;
}
export interface KafkajsDecodedBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  lastOffsetDelta: number;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  records: KafkajsDecodedRecord[];
}

const produceV3Request = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: object) => {
  encode(): Promise<KafkajsEncoder>;
};
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(args: object): Promise<KafkajsEncoder>;
};
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => object;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: object) => Promise<KafkajsDecodedBatch>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => object;

/** A kafkajs producer message: headers are an object whose array values repeat the key. */
export interface KafkajsMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: { [key: string]: Buffer | Buffer[] };
  timestamp?: number;
}

export interface KafkajsBatchOptions {
  messages: KafkajsMessage[];
  compression?: 0 | 1;
  producerId?: number;
  producerEpoch?: number;
  firstSequence?: number;
  transactionalId?: string | null;
}

/** The header list kafkajs writes for a headers object, in its order (Object.keys, arrays flattened). */
export function kafkajsHeaderList(headers: KafkajsMessage['headers']): RecordHeader[] {
  return Object.keys(headers).flatMap((key) => {
    const value = headers[key]!;
    return Array.isArray(value) ? value.map((v) => ({ key, value: v })) : [{ key, value }];
  });
}

/**
 * Encodes a batch exactly as the kafkajs producer does (through the Produce v3 request encoder,
 * which picks the timestamps and offset deltas), and cuts the batch out of the request bytes.
 */
export async function kafkajsProduceBatch(options: KafkajsBatchOptions): Promise<Buffer> {
  const transactionalId = options.transactionalId ?? null;
  const request = produceV3Request({
    acks: -1,
    timeout: 30_000,
    transactionalId,
    producerId: options.producerId ?? -1,
    producerEpoch: options.producerEpoch ?? 0,
    compression: options.compression ?? 0,
    topicData: [
      { topic: 't', partitions: [{ partition: 0, firstSequence: options.firstSequence ?? 0, messages: options.messages }] },
    ],
  });
  const bytes = (await request.encode()).buffer;
  // transactional_id, acks, timeout, [topic], topic "t", [partition], partition, record_set size
  const sizeAt = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) + 2 + 4 + 4 + 2 + 1 + 4 + 4;
  const size = bytes.readInt32BE(sizeAt);
  if (sizeAt + 4 + size !== bytes.length) throw new Error('unexpected kafkajs Produce v3 layout');
  return bytes.subarray(sizeAt + 4);
}

export interface KafkajsRawRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: { [key: string]: Buffer | Buffer[] };
  timestampDelta: number;
}

/** kafkajs's low-level RecordBatch encoder with caller-chosen header fields (e.g. negative deltas). */
export async function kafkajsRawBatch(options: {
  records: KafkajsRawRecord[];
  firstOffset?: number;
  firstTimestamp: number;
  maxTimestamp: number;
  compression?: 0 | 1;
}): Promise<Buffer> {
  const records = options.records.map((r, i) => kafkajsRecord({ ...r, offsetDelta: i }));
  const encoder = await RecordBatch({
    compression: options.compression ?? 0,
    firstOffset: options.firstOffset ?? 0,
    firstTimestamp: options.firstTimestamp,
    maxTimestamp: options.maxTimestamp,
    lastOffsetDelta: records.length - 1,
    records,
  });
  return encoder.buffer;
}

export function kafkajsDecodeBatch(bytes: Uint8Array): Promise<KafkajsDecodedBatch> {
  return decodeBatch(new Decoder(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
}
