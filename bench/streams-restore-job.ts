/**
 * The job bench/streams-restore.ts runs and SIGKILLs: a count per key over `restore-in`, kept in the
 * store `restore-counts`, snapshotted every --snapshot-interval-ms. Prints `running <metrics json>`
 * each time it reaches RUNNING (after its restore), and `stopped` on a clean close.
 *
 *   node dist/bench/streams-restore-job.js <bootstrap> <stateDir> <snapshotIntervalMs>
 */
import { stringSerde, TcpTransport } from '../sdk/mod.ts';
import { AppState, StreamsApp, StreamsBuilder } from '../streams/mod.ts';

const [bootstrap, stateDir, snapshotIntervalMs] = process.argv.slice(2);
if (bootstrap === undefined || stateDir === undefined || snapshotIntervalMs === undefined) {
  console.error('usage: streams-restore-job <bootstrap> <stateDir> <snapshotIntervalMs>');
  process.exit(2);
}
const builder = new StreamsBuilder();
builder.stream('restore-in', { key: stringSerde, value: stringSerde }).groupByKey().count({ name: 'restore-counts' });
const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
const app = new StreamsApp(builder.build(), {
  applicationId: 'restore-bench',
  transport,
  stateDir,
  instanceId: 'restore-bench-0',
  staticMembership: true,
  snapshotIntervalMs: Number(snapshotIntervalMs),
  snapshotMinChangelogRecords: 1,
});
app.onStateChange((state) => {
  if (state === AppState.running) console.log(`running ${JSON.stringify(app.metrics())}`);
});
process.on('SIGTERM', () => {
  void app.close().then(async () => {
    await transport.close();
    console.log('stopped');
  });
});
await app.start();
