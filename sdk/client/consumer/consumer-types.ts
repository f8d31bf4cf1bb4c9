import type { ConsumerGroupMetadata } from '../producer/producer-types.ts';
import type { RecordHeader } from '../../record/record.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface ConsumerRecord<K, V> {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: K | null;
  value: V | null;
  headers: readonly RecordHeader[];
}

/** A run of one partition's records from one fetch, in offset order: whole stored batches, taken until the run holds 2,048 records or the fetch's answer ends. */
export interface ConsumerBatch<K, V> {
  topic: string;
  partition: number;
  records: ConsumerRecord<K, V>[];
  highWatermark: number;
  lastStableOffset: number;
  /**
   * The group generation this batch was handed out under (subscribed consumers only). Pass it to
   * the producer's `sendOffsets`: the group rebalances in the background, and metadata read later
   * could name a newer generation in which another member owns this partition, which would let
   * both commit it. With this one, a stale commit is fenced (ILLEGAL_GENERATION, KIP-447).
   */
  groupMetadata?: ConsumerGroupMetadata;
}

export const IsolationLevel = { readUncommitted: 0, readCommitted: 1 } as const;
export type IsolationLevelValue = (typeof IsolationLevel)[keyof typeof IsolationLevel];

/** Where a partition without a position starts: its first offset, its end, or nowhere (an error). */
export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

export const tpKey = (topic: string, partition: number): string => `${partition}:${topic}`;
