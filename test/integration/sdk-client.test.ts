import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { runSdkScenario } from '../runtime/sdk-scenario.ts';

describe('SDK client over the embedded transport', () => {
  let dir: string;
  let broker: Broker;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rill-sdk-embedded-'));
    broker = await Broker.open({ config: { dataDir: dir }, groups: { initialRebalanceDelayMs: 0 } });
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the client scenario', async () => {
    const transport = new EmbeddedTransport(broker);
    const passed = await runSdkScenario(transport, 'embedded');
    await transport.close();
    expect(passed.length).toBeGreaterThanOrEqual(18);
  });
});

describe('SDK client over TCP against the broker process', () => {
  let proc: BrokerProcess;
  beforeAll(async () => {
    proc = await startBrokerProcess();
  });
  afterAll(async () => {
    await proc.dispose();
  });

  it('passes the client scenario', async () => {
    const transport = new TcpTransport({ bootstrapServers: [proc.bootstrap] });
    const passed = await runSdkScenario(transport, 'tcp');
    await transport.close();
    expect(passed.length).toBeGreaterThanOrEqual(18);
  });
});
