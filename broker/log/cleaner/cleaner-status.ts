/** The cleaner's figures for one compacted partition, as `/metrics` and the topic description show them. */
export interface CleanerPartitionStatus {
  /** `failed` after an error: the partition is not cleaned again until the broker restarts. */
  state: 'idle' | 'cleaning' | 'failed';
  firstDirtyOffset: number;
  /** Uncleaned bytes over all bytes considered, at the cleaner's last look. */
  dirtyRatio: number;
  cleanableBytes: number;
  passes: number;
  errors: number;
  lastError: string | null;
  lastPass: CleanerPassFigures | null;
  totals: { bytesRead: number; bytesWritten: number; recordsRemoved: number; durationMs: number };
}

export interface CleanerPassFigures {
  startedMs: number;
  durationMs: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsRemoved: number;
  batchesRemoved: number;
  segmentsCleaned: number;
  /** Every segment below it was cleaned; the next pass's dirty section starts there. */
  endOffset: number;
  /** Share of the offset map's slots the pass used. */
  bufferUtilization: number;
  /** The dirty ratio the pass started from. */
  dirtyRatio: number;
}
