import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { readRecordBatches } from '../../sdk/record/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, repoRoot } from '../helpers/child-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchRequest } from '../helpers/read-partition.ts';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess();
});

afterAll(async () => {
  await broker.dispose();
});

const SCRIPT = 'test/integration/platformatic/producer-smoke.ts';
const launchers = {
  Bun: (args: string[]) => new ManagedProcess(`${repoRoot}/node_modules/.bin/bun`, [SCRIPT, ...args]),
  Deno: (args: string[]) => new ManagedProcess(`${repoRoot}/node_modules/.bin/deno`, ['run', '--allow-all', '--no-lock', SCRIPT, ...args]),
};

describe.each(Object.keys(launchers) as (keyof typeof launchers)[])('@platformatic/kafka under %s', (runtime) => {
  it('auto-creates a topic, produces with acks=all over flexible versions, and the broker serves it back', async () => {
    const topic = `platformatic-${runtime.toLowerCase()}`;
    const exit = await launchers[runtime]([broker.bootstrap, topic, '100']).exit();
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { offsets: string[]; latest: string };
    expect(report.offsets).toEqual(['0', '25', '50', '75']);
    expect(report.latest).toBe('100');

    const raw = await RawKafkaClient.connect(broker.port);
    const response = await raw.request(ApiKey.Fetch, 12, fetchRequest(topic, 0, 0n, { isolationLevel: 1 }));
    raw.close();
    const decoder = new TextDecoder();
    const records = [...readRecordBatches(response.responses[0]!.partitions[0]!.records!)].flatMap((b) => [...b.records()]);
    expect(records.map((r) => decoder.decode(r.value!))).toEqual(Array.from({ length: 100 }, (_, i) => `platformatic-${i}`));
    expect(records.map((r) => decoder.decode(r.headers[0]!.value!))).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });
});
