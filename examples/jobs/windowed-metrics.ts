/**
 * Windowed metrics with suppression: request latencies per host, summarised per minute, one final
 * summary per host and minute once the minute closed (no intermediate updates).
 *
 *   rill run examples/jobs/windowed-metrics.ts --bootstrap localhost:9092
 *
 * Input `latencies` (key: host, value: latency in ms as JSON number; the record's timestamp is when
 * it was measured). Output `latency-per-minute` (key: host, value: JSON MinuteSummary) when stream
 * time passes the minute's end plus a grace of 10 s for late measurements; a measurement later than
 * that is dropped and counted (`lateRecordsDropped`).
 */
import { jsonSerde, stringSerde } from '../../sdk/mod.ts';
import { BufferConfig, defineJob, Suppressed, TimeWindows } from '../../streams/mod.ts';

export const WINDOW_MS = 60_000;
export const GRACE_MS = 10_000;

interface Stats {
  count: number;
  sumMs: number;
  maxMs: number;
}

export interface MinuteSummary extends Stats {
  windowStartMs: number;
  meanMs: number;
}

export default defineJob({
  applicationId: 'windowed-metrics',
  config: { guarantee: 'exactly_once' },
  topics: [
    { name: 'latencies', partitions: 2 },
    { name: 'latency-per-minute', partitions: 2 },
  ],
  topology: (builder) => {
    builder
      .stream('latencies', { key: stringSerde, value: jsonSerde<number>() })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_MS, GRACE_MS))
      .aggregate(
        (): Stats => ({ count: 0, sumMs: 0, maxMs: 0 }),
        (_host, latencyMs, stats) => ({ count: stats.count + 1, sumMs: stats.sumMs + latencyMs, maxMs: Math.max(stats.maxMs, latencyMs) }),
        { name: 'latency-stats', value: jsonSerde<Stats>() },
      )
      // A few windows per host are open at once; a buffer this full means something is wrong: stop.
      .suppress(Suppressed.untilWindowCloses(BufferConfig.maxRecords(100_000).shutDownWhenFull(), { name: 'latency-finals' }))
      .toStream()
      .map((window, stats): [string, MinuteSummary] => [window.key, { ...stats, windowStartMs: window.window.startMs, meanMs: stats.sumMs / stats.count }], {
        key: stringSerde,
        value: jsonSerde<MinuteSummary>(),
      })
      .to('latency-per-minute');
  },
});
