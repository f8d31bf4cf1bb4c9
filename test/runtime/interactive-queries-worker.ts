import { TcpTransport } from '../../sdk/mod.ts';
import { StreamsApp, startAppServer } from '../../streams/mod.ts';
import { iqTopology } from './interactive-queries-scenario.ts';

/**
 * One instance of the interactive-queries job in its own process, with its app server on
 * 127.0.0.1: `interactive-queries-worker <bootstrap> <stateDir> <prefix>`. Prints
 * `listening <url>`, then `state <STATE> hosts <n>` on each state change (n: instances known from
 * the last assignment); closes on SIGTERM.
 */
const [bootstrap, stateDir, prefix] = process.argv.slice(2) as [string, string, string];
const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
const app = new StreamsApp(iqTopology(prefix), { applicationId: `${prefix}iq-app`, transport, stateDir, commitIntervalMs: 50, heartbeatIntervalMs: 100 });
const server = await startAppServer(app, { port: 0, hostname: '127.0.0.1' });
app.onStateChange((state) => process.stdout.write(`state ${state} hosts ${app.allMetadata().length}\n`));
process.stdout.write(`listening ${server.url}\n`);
let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  void (async () => {
    await app.close();
    await server.close();
    await transport.close();
    process.exit(0);
  })();
});
await app.start();
