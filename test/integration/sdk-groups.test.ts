import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { TcpTransport, type Transport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { adminGroupStep, allAssignors, commitStep, cooperativeStep, groupSplitStep } from '../runtime/sdk-group-scenario.ts';

function checks(): { check: (condition: boolean, what: string) => void; passed: string[] } {
  const passed: string[] = [];
  return {
    passed,
    check(condition, what) {
      expect(condition, what).toBe(true);
      passed.push(what);
    },
  };
}

function groupSuite(name: string, open: () => Promise<{ transport: Transport; dispose(): Promise<void> }>): void {
  describe(`SDK consumer groups over ${name}`, () => {
    let transport: Transport;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ transport, dispose } = await open());
    });
    afterAll(async () => {
      await dispose();
    });

    it.each(allAssignors.map((a) => [a.name, a] as const))('three members split six partitions with %s and rebalance when one stops', async (_name, assignor) => {
      const { check, passed } = checks();
      await groupSplitStep(transport, name, assignor, check);
      expect(passed.length).toBeGreaterThanOrEqual(2);
    });

    it('cooperative-sticky moves only the partitions that must move', async () => {
      const { check, passed } = checks();
      await cooperativeStep(transport, name, check);
      expect(passed).toHaveLength(2);
    });

    it('resumes at committed offsets (manual and auto-commit) and keeps static members without a rebalance', async () => {
      const { check, passed } = checks();
      await commitStep(transport, name, check);
      expect(passed).toHaveLength(4);
    });

    it('admin lists, describes, measures lag, resets and deletes groups', async () => {
      const { check, passed } = checks();
      await adminGroupStep(transport, name, check);
      expect(passed).toHaveLength(6);
    });
  });
}

groupSuite('embedded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rill-sdk-groups-'));
  const broker = await Broker.open({ config: { dataDir: dir }, groups: { initialRebalanceDelayMs: 0 } });
  const transport = new EmbeddedTransport(broker);
  return {
    transport,
    async dispose() {
      await transport.close();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

groupSuite('tcp', async () => {
  const proc: BrokerProcess = await startBrokerProcess();
  const transport = new TcpTransport({ bootstrapServers: [proc.bootstrap] });
  return {
    transport,
    async dispose() {
      await transport.close();
      await proc.dispose();
    },
  };
});
