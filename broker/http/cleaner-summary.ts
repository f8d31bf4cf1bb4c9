import type { CleanerPartitionStatus } from '../log/cleaner/cleaner-status.ts';

/** Partitions listed by name in the summary's cleaner section; the rest are only counted in `more`. */
export const MAX_CLEANER_ATTENTION_PARTITIONS = 20;

/** A compacted partition whose cleaning failed, or that is dirtier than its topic cleans at. */
export interface CleanerAttentionPartition {
  topic: string;
  partition: number;
  state: CleanerPartitionStatus['state'];
  dirtyRatio: number;
  /** The topic's `min.cleanable.dirty.ratio`. */
  minCleanableDirtyRatio: number;
  cleanableBytes: number;
  lastError: string | null;
}

/** The log cleaner over the compacted partitions of the topics summarised (the figures of `rill_cleaner_*`). */
export interface CleanerSummary {
  partitions: Record<CleanerPartitionStatus['state'], number>;
  /** The largest dirty ratio of any of them at the cleaner's last look (0 with none). */
  maxDirtyRatio: number;
  cleanableBytes: number;
  /** Since the broker started. */
  totals: { bytesRead: number; bytesWritten: number; recordsRemoved: number; passes: number; errors: number };
  /** Failed partitions first, then the dirtiest; at most MAX_CLEANER_ATTENTION_PARTITIONS. */
  attention: CleanerAttentionPartition[];
  /** Partitions that need attention but did not fit in `attention`. */
  more: number;
}

/** Adds up cleaner statuses partition by partition; `summary()` ranks those needing attention. */
export class CleanerSummaryBuilder {
  private readonly counts: CleanerSummary['partitions'] = { idle: 0, cleaning: 0, failed: 0 };
  private maxDirtyRatio = 0;
  private cleanableBytes = 0;
  private readonly totals: CleanerSummary['totals'] = { bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, passes: 0, errors: 0 };
  /** At most one entry per partition of the broker, which its partition limits bound. */
  private readonly attention: CleanerAttentionPartition[] = [];

  add(topic: string, partition: number, minCleanableDirtyRatio: number, status: CleanerPartitionStatus): void {
    this.counts[status.state]++;
    this.maxDirtyRatio = Math.max(this.maxDirtyRatio, status.dirtyRatio);
    this.cleanableBytes += status.cleanableBytes;
    this.totals.bytesRead += status.totals.bytesRead;
    this.totals.bytesWritten += status.totals.bytesWritten;
    this.totals.recordsRemoved += status.totals.recordsRemoved;
    this.totals.passes += status.passes;
    this.totals.errors += status.errors;
    if (status.state === 'failed' || status.dirtyRatio > minCleanableDirtyRatio) {
      const { state, dirtyRatio, cleanableBytes, lastError } = status;
      this.attention.push({ topic, partition, state, dirtyRatio, minCleanableDirtyRatio, cleanableBytes, lastError });
    }
  }

  summary(): CleanerSummary {
    const rank = (p: CleanerAttentionPartition): number => (p.state === 'failed' ? 1 : 0);
    const worstFirst = [...this.attention].sort((a, b) => rank(b) - rank(a) || b.dirtyRatio - a.dirtyRatio);
    return {
      partitions: { ...this.counts },
      maxDirtyRatio: this.maxDirtyRatio,
      cleanableBytes: this.cleanableBytes,
      totals: { ...this.totals },
      attention: worstFirst.slice(0, MAX_CLEANER_ATTENTION_PARTITIONS),
      more: Math.max(0, worstFirst.length - MAX_CLEANER_ATTENTION_PARTITIONS),
    };
  }
}
