/**
 * Word count, exactly once: lines of text in, the running count of every word out.
 *
 *   rill run examples/jobs/word-count.ts --bootstrap localhost:9092          (Bun, Deno)
 *   node dist/broker/cli/main.js run dist/examples/jobs/word-count.js --embedded --data-dir ./data
 *
 * Input `lines` (value: text; key ignored). Output `word-counts` (key: a lowercased word, value: its
 * count as a 64-bit integer), one update per word occurrence; the latest value of a key is its
 * count. Under exactly-once a count is never applied twice, through crashes and restarts.
 * `word-count-v2.ts` is the same job with a change of logic, for the README's side-by-side
 * reprocessing walkthrough.
 */
import { longSerde, stringSerde } from '../../sdk/mod.ts';
import { defineJob, type Job } from '../../streams/mod.ts';

export interface WordCountVersion {
  applicationId: string;
  output: string;
  /** Words left out of the counts. */
  stopWords?: readonly string[];
}

export function wordCountJob({ applicationId, output, stopWords = [] }: WordCountVersion): Job {
  const skipped = new Set(stopWords);
  return defineJob({
    applicationId,
    config: { guarantee: 'exactly_once', commitIntervalMs: 100 },
    topics: [
      { name: 'lines', partitions: 2 },
      { name: output, partitions: 2 },
    ],
    topology: (builder) => {
      builder
        .stream('lines', { key: stringSerde, value: stringSerde })
        .flatMapValues((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter((word) => word !== '' && !skipped.has(word)))
        .groupBy((_key, word) => word, { key: stringSerde, value: stringSerde })
        .count({ name: 'word-counts-store' })
        .toStream()
        .to(output, { key: stringSerde, value: longSerde });
    },
  });
}

export default wordCountJob({ applicationId: 'word-count', output: 'word-counts' });
