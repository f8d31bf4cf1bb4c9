/**
 * A stream job with a retry ladder, over a broker process or any Kafka cluster: numbered records
 * in, `out-<n>` out, through a step that fails for some records and succeeds when retried.
 *
 *   node dist/examples/streams-retry.js <bootstrap> <stateDir> [instanceId]
 *   bun examples/streams-retry.ts <bootstrap> <stateDir> [instanceId]
 *   deno run -A examples/streams-retry.ts <bootstrap> <stateDir> [instanceId]
 *
 * Input `retry-in` (key: any text, value: a number as text). The step `charge` fails for record n
 * as long as it has been retried fewer than `failuresOf(n)` times (it knows from the tier topic the
 * record comes from): n % 10 = 3 recovers in tier 1, n % 10 = 6 in tier 2, n % 10 = 9 never and
 * goes to the dead-letter topic `streams-retry-dlq`; the others succeed at once. Tier delays:
 * 300 ms and 600 ms. Output `retry-out`: `out-<n>`, same key.
 *
 * Start several with the same application id and their own state directories to share the work;
 * every input ends exactly once in `retry-out` or in `streams-retry-dlq`, through crashes.
 */
import { stringSerde, TcpTransport } from '../sdk/mod.ts';
import { AppState, type ProcessorContext, StreamsApp, StreamsBuilder } from '../streams/mod.ts';

const [bootstrap, stateDir, instanceId] = process.argv.slice(2);
if (bootstrap === undefined || stateDir === undefined) {
  console.error('usage: streams-retry <bootstrap> <stateDir> [instanceId]');
  process.exit(2);
}

/** How many times record n fails before it succeeds (3: more than the ladder's 2 tiers). */
function failuresOf(n: number): number {
  const kind = n % 10;
  return kind === 3 ? 1 : kind === 6 ? 2 : kind === 9 ? 3 : 0;
}

/** The tier a record comes from: 0 from the input, n from `<applicationId>-charge-retry-<n>`. */
function tierOf(topic: string | undefined): number {
  const match = /-charge-retry-(\d+)$/.exec(topic ?? '');
  return match === null ? 0 : Number(match[1]);
}

const builder = new StreamsBuilder();
builder
  .stream('retry-in', { key: stringSerde, value: stringSerde })
  .process<string, string>(
    () => {
      let ctx: ProcessorContext<string, string>;
      return {
        init: (context) => void (ctx = context),
        process: async (record) => {
          await Promise.resolve();
          const n = Number(record.value);
          if (tierOf(record.metadata?.topic) < failuresOf(n)) throw new Error(`charging ${n} failed`);
          ctx.forward(record.withValue(`out-${n}`));
        },
      };
    },
    { name: 'charge', retry: { delaysMs: [300, 600] } },
  )
  .to('retry-out', { key: stringSerde, value: stringSerde });

const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
const app = new StreamsApp(builder.build(), {
  applicationId: 'streams-retry',
  transport,
  stateDir,
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
  console.error(`streams-retry stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
if (app.state !== AppState.notRunning) await transport.close();
