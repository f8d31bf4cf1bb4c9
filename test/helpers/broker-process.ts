import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, type Exit, type Runtime, runtimeCommand } from './child-process.ts';

export interface BrokerProcess {
  readonly runtime: Runtime;
  readonly dataDir: string;
  readonly port: number;
  readonly bootstrap: string;
  /** The HTTP API's port, and its base URL (`http://127.0.0.1:<port>`). */
  readonly httpPort: number;
  readonly httpUrl: string;
  readonly process: ManagedProcess;
  /** Stops the process (SIGTERM: clean shutdown; SIGKILL: crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** Stops it if running and removes its data directory unless the caller owns it. */
  dispose(): Promise<void>;
}

export interface BrokerProcessOptions {
  runtime?: Runtime;
  /** Reuse a data directory (a restart); otherwise a fresh temporary one is made and removed on dispose. */
  dataDir?: string;
  /** Reuse a port (a restart on the same address); otherwise the OS picks one. */
  port?: number;
  /** Reuse an HTTP port (a restart on the same address); otherwise the OS picks one. */
  httpPort?: number;
  args?: string[];
  /** How long the process may take to report readiness before it is killed and the start fails. */
  readyTimeoutMs?: number;
}

const defaultReadyTimeoutMs = 120_000;
const addressInUseRetries = 40;
const addressInUsePauseMs = 250;

/**
 * Starts `rill start` as a real process on 127.0.0.1 and resolves once it reports its Kafka and HTTP
 * ports and readiness. A restart on fixed ports retries while the address is still in use (a client's
 * ephemeral port can briefly take a freed listener port); a process that neither gets ready nor exits
 * within `readyTimeoutMs` is killed and the start fails with its output.
 */
export async function startBrokerProcess(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const fixedPorts = options.port !== undefined || options.httpPort !== undefined;
      if (!fixedPorts || attempt >= addressInUseRetries || !/EADDRINUSE/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, addressInUsePauseMs));
    }
  }
}

async function startOnce(options: BrokerProcessOptions): Promise<BrokerProcess> {
  const runtime = options.runtime ?? 'node';
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'rill-broker-'));
  const [command, args] = runtimeCommand(runtime, 'broker/cli/main.ts', [
    'start',
    '--data-dir',
    dataDir,
    '--host',
    '127.0.0.1',
    '--kafka-port',
    String(options.port ?? 0),
    '--http-port',
    String(options.httpPort ?? 0),
    ...(options.args ?? []),
  ]);
  const proc = new ManagedProcess(command, args);
  const readyTimeoutMs = options.readyTimeoutMs ?? defaultReadyTimeoutMs;
  let listening: string;
  let httpListening: string;
  try {
    listening = await proc.waitForLine(/kafka listening on /, readyTimeoutMs);
    httpListening = await proc.waitForLine(/http listening on /, readyTimeoutMs);
    await proc.waitForLine(/broker ready/, readyTimeoutMs);
  } catch (error) {
    await proc.stop('SIGKILL');
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const port = Number(/advertised [^:]+:(\d+)/.exec(listening)?.[1]);
  const httpPort = Number(/http listening on \S+:(\d+)/.exec(httpListening)?.[1]);
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => proc.stop(signal);
  return {
    runtime,
    dataDir,
    port,
    bootstrap: `127.0.0.1:${port}`,
    httpPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    process: proc,
    stop,
    async dispose() {
      await stop('SIGKILL');
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
