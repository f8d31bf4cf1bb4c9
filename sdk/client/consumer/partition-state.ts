/** A reset waiting to be resolved through ListOffsets: earliest, latest, or the first offset at a time. */
export type PendingReset = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'timestamp'; timestampMs: number };

/** One assigned partition's positions. */
export class PartitionState {
  /** The next offset the application gets. */
  position = -1;
  /** The next offset to fetch; runs ahead of `position` by the prefetched records. */
  fetchPosition = -1;
  paused = false;
  reset: PendingReset | undefined;
  /** Bumped on every seek, so fetches and buffered batches from before it are dropped. */
  epoch = 0;
  fetching = false;
  highWatermark = -1;
  lastStableOffset = -1;
  /** Not fetched before this time (backoff after an error). */
  notBeforeMs = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  seek(offset: number): void {
    this.position = offset;
    this.fetchPosition = offset;
    this.reset = undefined;
    this.epoch++;
  }

  /**
   * Fetches again from `position`, voiding what was fetched beyond it: for data the application
   * was not handed (it left an iteration mid-answer, or the partition was paused).
   */
  rewindToPosition(): void {
    if (this.position < 0 || this.reset !== undefined) return;
    this.fetchPosition = this.position;
    this.epoch++;
  }

  requestReset(reset: PendingReset): void {
    this.reset = reset;
    this.epoch++;
  }

  get fetchable(): boolean {
    return !this.paused && this.reset === undefined && this.fetchPosition >= 0 && !this.fetching;
  }
}
