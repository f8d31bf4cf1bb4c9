/** Per-partition log settings; Kafka's topic configs of the same meaning, in Kafka's units. */
export interface LogConfig {
  /** `segment.bytes`: roll when the next append would make the active segment larger. */
  segmentBytes: number;
  /** `segment.ms`: roll when the active segment's first append is older than this. */
  segmentMs: number;
  /** `retention.bytes`: delete old segments while the partition is larger; -1 unlimited. */
  retentionBytes: number;
  /** `retention.ms`: delete segments whose newest batch timestamp is older; -1 unlimited. */
  retentionMs: number;
  /** `max.message.bytes`: the largest batch (including its 12-byte log overhead) accepted. */
  maxMessageBytes: number;
  /** `index.interval.bytes`: log bytes between two sparse offset index entries. */
  indexIntervalBytes: number;
  /** `segment.index.bytes`: the largest offset index file; a full index rolls the segment. */
  segmentIndexBytes: number;
}

export const defaultLogConfig: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  maxMessageBytes: 1048588,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
};
