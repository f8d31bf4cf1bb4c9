import { afterAll, afterEach, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { TcpTransport, type Transport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from './broker-process.ts';

/**
 * Where a streams integration test runs its jobs: the broker in this process (EmbeddedTransport)
 * or a `rill start` process over TCP. One broker per setup, opened on first use; each `open()`
 * gives a new transport the test closes.
 */
export interface Setup {
  readonly name: string;
  open(): Promise<Transport>;
  close(): Promise<void>;
}

export function embeddedSetup(): Setup {
  let broker: Broker | undefined;
  let dataDir = '';
  return {
    name: 'the embedded broker',
    async open() {
      if (broker === undefined) {
        dataDir = mkdtempSync(join(tmpdir(), 'rill-streams-broker-'));
        broker = await Broker.open({ config: { dataDir }, groups: { initialRebalanceDelayMs: 0 } });
      }
      return new EmbeddedTransport(broker);
    },
    async close() {
      await broker?.close();
      if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function tcpSetup(): Setup {
  let broker: BrokerProcess | undefined;
  return {
    name: 'TCP to a rill start process',
    async open() {
      broker ??= await startBrokerProcess();
      return new TcpTransport({ bootstrapServers: [broker.bootstrap] });
    },
    async close() {
      await broker?.dispose();
    },
  };
}

/**
 * The hooks of a `describe.each` block over setups: the setup's broker starts before the first
 * test (so its start-up is not one test's time) and stops after the last; `openSetup()` gives a
 * test a transport and a fresh state directory, both closed and removed after it, with whatever
 * else it pushes on `cleanup` (run in reverse).
 */
export function setupHooks(setup: Setup): { openSetup(): Promise<{ transport: Transport; stateDir: string }>; cleanup: (() => Promise<void> | void)[] } {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(() => setup.close());
  beforeAll(() => setup.open().then((t) => t.close()));
  return {
    cleanup,
    async openSetup() {
      const stateDir = mkdtempSync(join(tmpdir(), 'rill-streams-state-'));
      const transport = await setup.open();
      cleanup.push(async () => {
        await transport.close();
        rmSync(stateDir, { recursive: true, force: true });
      });
      return { transport, stateDir };
    },
  };
}
