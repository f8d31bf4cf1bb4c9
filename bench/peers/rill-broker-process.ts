import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerProcess } from './server-process.ts';

/** The broker's compiled CLI: benchmarks run from dist/bench/, the broker from dist/broker/. */
function brokerMain(): string {
  const compiled = import.meta.url.endsWith('.js');
  const root = fileURLToPath(new URL(compiled ? '../../../' : '../../', import.meta.url));
  return join(root, 'dist', 'broker', 'cli', 'main.js');
}

/** `rill start` as a separate Node process on 127.0.0.1 with OS-chosen ports; resolves once it is ready. */
export async function startRillBroker(dataDir: string, nodeArgs: readonly string[] = []): Promise<{ server: ServerProcess; bootstrap: string }> {
  const server = await ServerProcess.start({
    name: 'rill broker',
    command: process.execPath,
    args: [...nodeArgs, brokerMain(), 'start', '--data-dir', dataDir, '--host', '127.0.0.1', '--kafka-port', '0', '--http-port', '0'],
    ready: /kafka listening on \S+:\d+[\s\S]*broker ready/,
  });
  return { server, bootstrap: `127.0.0.1:${/kafka listening on \S+:(\d+)/.exec(server.output())![1]}` };
}
