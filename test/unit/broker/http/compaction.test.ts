import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordBatchBuilder, readRecordBatches } from '../../../../sdk/mod.ts';
import { ManualClock } from '../log/log-test-support.ts';
import { openTestApp, type TestApp } from './http-test-support.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const v1 = { type: 'object', properties: { id: { type: 'integer' } } };
const v2 = { type: 'object', properties: { id: { type: 'integer' }, note: { type: 'string' } } };

/** Rolls every active segment (the app's topics roll after segment.ms) and cleans every compacted partition that needs it. */
async function rollAndClean(app: TestApp, clock: ManualClock): Promise<void> {
  clock.now += 8 * 24 * 60 * 60 * 1000;
  await app.broker.applyRetention();
  while ((await app.broker.logCleaner.runRound()) !== undefined);
}

describe('compaction over HTTP', () => {
  it('shows the cleaner\'s figures in the topic description and on /metrics', async () => {
    const clock = new ManualClock();
    t = await openTestApp({}, undefined, { clock });
    expect((await t.request('/v1/topics', { json: { name: 'profiles', config: { 'cleanup.policy': 'compact', 'segment.ms': '1000' } } })).status).toBe(201);
    for (let i = 0; i < 10; i++) {
      expect((await t.request('/v1/topics/profiles/records', { json: { records: [{ key: 'user-1', value: { n: i } }, { key: 'user-2', value: { n: i } }] } })).status).toBe(200);
    }
    await rollAndClean(t, clock);
    const described = await (await t.request('/v1/topics/profiles')).json();
    expect(described.partitions[0].cleaner).toMatchObject({ state: 'idle', passes: 1, errors: 0, lastError: null, firstDirtyOffset: 20 });
    expect(described.partitions[0].cleaner.lastPass).toMatchObject({ recordsRead: 20, recordsRemoved: 18, endOffset: 20 });
    const metrics = await (await t.request('/metrics')).text();
    expect(metrics).toMatch(/^rill_cleaner_passes_total\{partition="0",topic="profiles"\} 1$/m);
    expect(metrics).toMatch(/^rill_cleaner_removed_records_total\{partition="0",topic="profiles"\} 18$/m);
    expect(metrics).toMatch(/^rill_cleaner_failed\{partition="0",topic="profiles"\} 0$/m);
    expect(metrics).toMatch(/^rill_cleaner_first_dirty_offset\{partition="0",topic="profiles"\} 20$/m);
    expect(metrics).toMatch(/^rill_cleaner_last_pass_duration_seconds\{partition="0",topic="profiles"\} [0-9.e-]+$/m);
    expect(metrics).toMatch(/^rill_cleaner_read_bytes_total\{partition="0",topic="profiles"\} [1-9]\d*$/m);
    const records = await (await t.request('/v1/topics/profiles/partitions/0/records?offset=0')).json();
    expect(records.records.map((r: { offset: number }) => r.offset)).toEqual([18, 19]);
  });

  it('sums the cleaner up on /v1/summary: states, totals, and the failed partition listed first', async () => {
    const clock = new ManualClock();
    t = await openTestApp({}, undefined, { clock });
    for (const name of ['profiles', 'broken']) {
      expect((await t.request('/v1/topics', { json: { name, config: { 'cleanup.policy': 'compact', 'segment.ms': '1000' } } })).status).toBe(201);
      for (let i = 0; i < 10; i++) {
        expect((await t.request(`/v1/topics/${name}/records`, { json: { records: [{ key: 'user-1', value: { n: i } }, { key: 'user-2', value: { n: i } }] } })).status).toBe(200);
      }
    }
    expect((await t.request('/v1/topics', { json: { name: 'plain' } })).status).toBe(201);
    clock.now += 8 * 24 * 60 * 60 * 1000;
    await t.broker.applyRetention();
    const brokenDir = join(t.dataDir, 'broken-0');
    const [sealed, ...rest] = readdirSync(brokenDir).filter((n) => n.endsWith('.log')).sort();
    expect(rest.length).toBeGreaterThan(0);
    const bytes = readFileSync(join(brokenDir, sealed!));
    bytes[bytes.length - 2]! ^= 0xff;
    writeFileSync(join(brokenDir, sealed!), bytes);
    while ((await t.broker.logCleaner.runRound()) !== undefined);

    const profiles = t.broker.describeTopic('profiles').partitions[0]!.cleaner!;
    const broken = t.broker.describeTopic('broken').partitions[0]!.cleaner!;
    const { cleaner } = await (await t.request('/v1/summary')).json();
    expect(cleaner).toMatchObject({
      partitions: { idle: 1, cleaning: 0, failed: 1 },
      maxDirtyRatio: Math.max(profiles.dirtyRatio, broken.dirtyRatio),
      cleanableBytes: profiles.cleanableBytes + broken.cleanableBytes,
      totals: { passes: 1, errors: 1, recordsRemoved: 18, bytesRead: profiles.totals.bytesRead, bytesWritten: profiles.totals.bytesWritten },
      more: 0,
    });
    expect(cleaner.totals.bytesRead).toBeGreaterThan(0);
    expect(cleaner.attention).toEqual([
      expect.objectContaining({ topic: 'broken', partition: 0, state: 'failed', minCleanableDirtyRatio: 0.5, lastError: expect.stringContaining('CRC-32C mismatch') }),
    ]);
    const metrics = await (await t.request('/metrics')).text();
    expect(metrics).toMatch(/^rill_cleaner_failed\{partition="0",topic="broken"\} 1$/m);
  });

  it('compacts its own internal topics: the idempotency store keeps one record per key, schema versions all survive', async () => {
    const clock = new ManualClock();
    // A window longer than the time the test moves on, so retention keeps the idempotency records.
    const options = { idempotencyWindowMs: 30 * 24 * 60 * 60 * 1000 };
    t = await openTestApp(options, undefined, { clock });
    await t.request('/v1/topics', { json: { name: 'orders' } });
    await t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }] }, headers: { 'idempotency-key': 'k-1' } });
    await t.request('/v1/topics/orders/schemas', { json: { schema: v1 } });
    await t.request('/v1/topics/orders/schemas', { json: { schema: v2 } });
    const policy = (topic: string): string | undefined => t!.broker.describeTopic(topic).configs.find((c) => c.name === 'cleanup.policy')?.value;
    expect([policy('__http_idempotency'), policy('__http_schemas')]).toEqual(['compact,delete', 'compact']);
    const idempotencyRecords = async (): Promise<number> => {
      const [read] = await t!.broker.fetch({ partitions: [{ topic: '__http_idempotency', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
      return [...readRecordBatches(read!.records)].reduce((n, b) => n + b.recordsCount, 0);
    };
    // The key's intent, then its result.
    expect(await idempotencyRecords()).toBe(2);
    await rollAndClean(t, clock);
    expect(await idempotencyRecords()).toBe(1);
    await t.close(false);
    t = await openTestApp(options, t.dataDir, { clock });
    expect((await (await t.request('/v1/topics/orders/schemas')).json()).versions.map((v: { schema: unknown }) => v.schema)).toEqual([v1, v2]);
    const replay = await t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }] }, headers: { 'idempotency-key': 'k-1' } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // Removing the schemas writes a tombstone per version; once cleaned, they are gone for good.
    expect((await t.request('/v1/topics/orders', { method: 'DELETE' })).status).toBe(204);
    await rollAndClean(t, clock);
    await t.close(false);
    t = await openTestApp(options, t.dataDir, { clock });
    await t.request('/v1/topics', { json: { name: 'orders' } });
    expect((await (await t.request('/v1/topics/orders/schemas')).json()).versions).toEqual([]);
  });

  it('migrates schema records of the older one-key-per-topic layout, so compaction keeps every version', async () => {
    const clock = new ManualClock();
    t = await openTestApp({}, undefined, { clock });
    await t.request('/v1/topics', { json: { name: 'orders' } });
    await t.broker.createTopic('__http_schemas', { config: { 'retention.ms': '-1' } });
    const legacy = new RecordBatchBuilder({});
    legacy.append({ key: new TextEncoder().encode('orders'), value: encode({ version: 1, schema: v1, createdMs: 1 }), timestamp: clock.now });
    legacy.append({ key: new TextEncoder().encode('orders'), value: encode({ version: 2, schema: v2, createdMs: 2 }), timestamp: clock.now });
    await t.broker.append('__http_schemas', 0, legacy.seal());
    await t.close(false);
    t = await openTestApp({}, t.dataDir, { clock });
    expect((await (await t.request('/v1/topics/orders/schemas')).json()).versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    await rollAndClean(t, clock);
    await t.close(false);
    t = await openTestApp({}, t.dataDir, { clock });
    expect((await (await t.request('/v1/topics/orders/schemas')).json()).versions.map((v: { schema: unknown }) => v.schema)).toEqual([v1, v2]);
  });
});
