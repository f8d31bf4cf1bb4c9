/**
 * A stream job over a broker process or any Kafka cluster: numbered records in, a stateless
 * transform out, and running totals per group kept in a state store behind a repartition.
 *
 *   node dist/examples/streams-totals.js <bootstrap> <stateDir> [instanceId]
 *   bun examples/streams-totals.ts <bootstrap> <stateDir> [instanceId]
 *   deno run -A examples/streams-totals.ts <bootstrap> <stateDir> [instanceId]
 *
 * Input `numbers` (key: any text, value: a number as text, or any other text to only move stream
 * time). Outputs:
 *   `numbers-out`    one record per number: `out-<n>`, same key
 *   `totals`         per group `g<n % 100>`, the sum of every number of the group so far
 *   `window-counts`  per key and tumbling window of 1,000 ms (grace 100 ms), the number of records
 *                    of the key in the window, once, when the window closes (suppress)
 *
 * Start several with the same application id and their own state directories to share the work;
 * every input counts exactly once in both outputs, through crashes and restarts.
 */
import { longSerde, stringSerde, TcpTransport } from '../sdk/mod.ts';
import { AppState, BufferConfig, StreamsApp, StreamsBuilder, Suppressed, TimeWindows, timeWindowedSerde } from '../streams/mod.ts';

const [bootstrap, stateDir, instanceId] = process.argv.slice(2);
if (bootstrap === undefined || stateDir === undefined) {
  console.error('usage: streams-totals <bootstrap> <stateDir> [instanceId]');
  process.exit(2);
}

const WINDOW_MS = 1_000;
const GRACE_MS = 100;

const builder = new StreamsBuilder();
const records = builder.stream('numbers', { key: stringSerde, value: stringSerde });
const numbers = records.filter((_key, value) => /^\d+$/.test(value));
numbers.mapValues((n) => `out-${n}`, { value: stringSerde }).to('numbers-out');
numbers
  .groupBy((_key, n) => `g${Number(n) % 100}`, { key: stringSerde, value: stringSerde })
  .aggregate(() => 0, (_group, n, sum) => sum + Number(n), { name: 'totals-store', value: longSerde })
  .toStream()
  .to('totals', { key: stringSerde, value: longSerde });
records
  .groupByKey()
  .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_MS, GRACE_MS))
  .count({ name: 'window-counts-store' })
  // A bound no healthy run nears (a few windows per key are open at a time): past it, stop rather than emit early.
  .suppress(Suppressed.untilWindowCloses(BufferConfig.maxRecords(100_000).shutDownWhenFull(), { name: 'window-finals' }))
  .toStream()
  .to('window-counts', { key: timeWindowedSerde(stringSerde, WINDOW_MS), value: longSerde });

const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
const app = new StreamsApp(builder.build(), {
  applicationId: 'streams-totals',
  transport,
  stateDir,
  // A restarted instance takes its tasks back without making the others rebalance.
  ...(instanceId === undefined ? {} : { instanceId, staticMembership: true }),
});
app.onStateChange((state) => console.log(`state ${state}`));
const stop = (): void => {
  void app.close().then(() => transport.close());
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await app.start().catch(() => undefined);
await app.stopped.catch((error: unknown) => {
  console.error(`streams-totals stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
if (app.state !== AppState.notRunning) await transport.close();
