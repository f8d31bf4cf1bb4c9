import { expect, it } from 'vitest';
import { CleanerSummaryBuilder, MAX_CLEANER_ATTENTION_PARTITIONS } from '../../../../broker/http/cleaner-summary.ts';
import type { CleanerPartitionStatus } from '../../../../broker/log/cleaner/cleaner-status.ts';

function status(state: CleanerPartitionStatus['state'], dirtyRatio: number): CleanerPartitionStatus {
  return {
    state,
    firstDirtyOffset: 0,
    dirtyRatio,
    cleanableBytes: 100,
    passes: 2,
    errors: state === 'failed' ? 1 : 0,
    lastError: state === 'failed' ? 'disk on fire' : null,
    lastPass: null,
    totals: { bytesRead: 10, bytesWritten: 4, recordsRemoved: 3, durationMs: 1 },
  };
}

it('lists failed partitions first, then those above their topic’s min.cleanable.dirty.ratio by dirtiness, bounded with a count of the rest', () => {
  const builder = new CleanerSummaryBuilder();
  for (let p = 0; p < 25; p++) builder.add('busy', p, 0.5, status('idle', 0.51 + p / 100));
  builder.add('strict', 0, 0.9, status('cleaning', 0.8));
  builder.add('calm', 0, 0.5, status('idle', 0.5));
  builder.add('broken', 3, 0.5, status('failed', 0.1));

  const summary = builder.summary();
  expect(summary.partitions).toEqual({ idle: 26, cleaning: 1, failed: 1 });
  expect(summary.maxDirtyRatio).toBe(0.8);
  expect(summary.cleanableBytes).toBe(28 * 100);
  expect(summary.totals).toEqual({ bytesRead: 280, bytesWritten: 112, recordsRemoved: 84, passes: 56, errors: 1 });
  expect(summary.attention).toHaveLength(MAX_CLEANER_ATTENTION_PARTITIONS);
  expect(summary.attention[0]).toEqual({ topic: 'broken', partition: 3, state: 'failed', dirtyRatio: 0.1, minCleanableDirtyRatio: 0.5, cleanableBytes: 100, lastError: 'disk on fire' });
  expect(summary.attention.slice(1).map((p) => p.partition)).toEqual(Array.from({ length: 19 }, (_, i) => 24 - i));
  // 25 busy partitions and the failed one need attention; `strict` and `calm` are at or below their ratio.
  expect(summary.more).toBe(26 - MAX_CLEANER_ATTENTION_PARTITIONS);
});

it('is all zeros without compacted partitions', () => {
  expect(new CleanerSummaryBuilder().summary()).toEqual({
    partitions: { idle: 0, cleaning: 0, failed: 0 },
    maxDirtyRatio: 0,
    cleanableBytes: 0,
    totals: { bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, passes: 0, errors: 0 },
    attention: [],
    more: 0,
  });
});
