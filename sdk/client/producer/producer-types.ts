import type { RecordHeader } from '../../record/record.ts';

/** Header values given as text are UTF-8 encoded. */
export type HeaderInput = Readonly<Record<string, string | Uint8Array | null>> | readonly RecordHeader[];

export interface ProducerRecord<K, V> {
  topic: string;
  key?: K | null;
  value: V | null;
  headers?: HeaderInput;
  /** Create time in ms since the epoch; defaults to now. */
  timestamp?: number;
  /** Overrides the partitioner. */
  partition?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 when acks=0 (the broker does not answer). */
  offset: number;
  /** The broker's time when the topic uses LogAppendTime, otherwise the record's create time. */
  timestamp: number;
}

/** What `sendOffsets` needs from the consumer to commit inside a transaction with KIP-447 fencing. */
export interface ConsumerGroupMetadata {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset to consume (last processed + 1). */
  offset: number;
  metadata?: string | null;
}

export const Acks = { none: 0, leader: 1, all: -1 } as const;
export type AcksValue = (typeof Acks)[keyof typeof Acks];
