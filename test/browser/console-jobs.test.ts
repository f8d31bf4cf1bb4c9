import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordCountJob } from '../../examples/jobs/word-count.ts';
import { TcpTransport } from '../../sdk/mod.ts';
import { StreamsApp, StreamsBuilder } from '../../streams/mod.ts';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts';
import { VIEWPORTS, consolePage, launchChromium, screenshot, signedInContext } from './console-browser.ts';

const OPS_TOKEN = 'jobs-ops-token';

/**
 * The console's stream jobs pages in a real Chromium against `rill start` (run `npm run build`
 * first), with the example word count running over TCP: the list shows it running, its page draws
 * its topology and shows its lag, tasks and charts, and the reset goes through a dry-run preview;
 * the share groups pages show a group's member and its records in flight.
 */
describe('web console stream jobs and share groups in Chromium', () => {
  let broker: BrokerProcess;
  let browser: Browser;
  let dir: string;
  let kafka: Kafka;
  let transport: TcpTransport;
  let app: StreamsApp | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rill-console-jobs-'));
    const config = join(dir, 'http.json');
    writeFileSync(config, JSON.stringify({ tokens: [{ name: 'ops', token: OPS_TOKEN, acls: [{ topics: '*', operations: ['read', 'write', 'admin'] }] }] }));
    [broker, browser] = await Promise.all([startBrokerProcess({ args: ['--http-config', config] }), launchChromium()]);
    kafka = new Kafka({ clientId: 'console-jobs-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'lines', numPartitions: 2 }, { topic: 'word-counts', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'lines', messages: ['to be or not to be', 'that is the question', 'the rest is silence'].map((value, i) => ({ key: `line-${i}`, value })) });
    await producer.disconnect();

    const job = wordCountJob({ applicationId: 'word-count', output: 'word-counts' });
    const builder = new StreamsBuilder();
    await job.topology(builder);
    transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
    app = new StreamsApp(builder.build(), { ...job.config, applicationId: job.applicationId, transport, stateDir: join(dir, 'state'), statusIntervalMs: 500 });
    await app.start();
    await app.waitFor('RUNNING');
  });

  afterAll(async () => {
    await app?.close();
    await transport?.close();
    await browser?.close();
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the running word count: its topology, lag and tasks, on a laptop and a phone, without console errors", async () => {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const context = await signedInContext(browser, OPS_TOKEN, viewport);
      const { page, errors } = await consolePage(context);
      await page.goto(`${broker.httpUrl}/#/jobs`);
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'word-count' }) });
      await row.getByText('1 running').waitFor();
      await screenshot(page, `${name}-jobs`);

      await page.getByRole('link', { name: 'word-count' }).click();
      await page.getByRole('heading', { name: 'Topology' }).waitFor();
      const graph = page.getByRole('img', { name: /^Topology graph: / });
      for (const vertex of ['lines', 'word-counts', 'word-counts-store']) await graph.locator(`g.vertex[data-name="${vertex}"]`).waitFor();
      expect(await graph.locator('g.vertex[data-kind="internal-topic"]').count()).toBe(1);
      expect(await graph.locator('g.vertex[data-kind="source"]').count()).toBe(2);
      await expectText(page.getByTestId('instances'), '1 running');
      // Every line counted and committed: the input's lag reaches 0 on the page.
      await page.getByRole('row', { name: /^lines 0 \d+ \d+ 0$/ }).first().waitFor();
      await page.getByRole('row', { name: /^lines 1 \d+ \d+ 0$/ }).waitFor();
      expect(Number(await page.getByTestId('app-lag').textContent())).toBeGreaterThanOrEqual(0);
      for (const task of ['0_0', '0_1', '1_0', '1_1']) await expectText(page.locator(`tr[data-task="${task}"] .task-state`), 'running');
      await page.getByRole('img', { name: 'Commit rate, commits/s' }).locator('.uplot').waitFor();
      await page.getByRole('img', { name: 'Total lag, records' }).locator('.uplot').waitFor();
      await screenshot(page, `${name}-job`);
      await context.close();
      expect(errors).toEqual([]);
    }
  });

  it('resets the stopped app after a dry-run preview (the Kafka API sees the inputs back at the start), and replays an input after a confirmation', async () => {
    await app!.close();
    app = undefined;
    const context = await signedInContext(browser, OPS_TOKEN, VIEWPORTS.laptop);
    const { page, errors } = await consolePage(context);
    await page.goto(`${broker.httpUrl}/#/jobs/word-count`);
    // A clean close removes the instance's status.
    await expectText(page.getByTestId('instances'), '0 running');
    await page.getByRole('button', { name: 'Preview application reset' }).click();
    const preview = page.getByRole('region', { name: 'Application reset preview' });
    await preview.getByText(/lines/).first().waitFor();
    const admin = kafka.admin();
    await admin.connect();
    const before = await admin.fetchOffsets({ groupId: 'word-count', topics: ['lines'] });
    expect(before[0]?.partitions.map((p) => p.offset).sort()).not.toEqual(['0', '0']);
    await screenshot(page, 'laptop-job-reset-preview');

    await preview.getByRole('button', { name: 'Confirm application reset' }).click();
    await page.getByText(/^Reset word-count\./).waitFor();
    const after = await admin.fetchOffsets({ groupId: 'word-count', topics: ['lines'] });
    expect(after[0]?.partitions.map((p) => p.offset)).toEqual(['0', '0']);

    // The replay of an input, confirmed first: its three lines land in another topic.
    await admin.createTopics({ topics: [{ topic: 'lines-copy', numPartitions: 2 }] });
    await admin.disconnect();
    await page.getByLabel('Into topic').fill('lines-copy');
    await page.getByRole('button', { name: 'Review replay' }).click();
    await page.getByRole('region', { name: 'Replay confirmation' }).getByRole('button', { name: 'Confirm replay' }).click();
    await page.getByText('Copied 3 records of lines into lines-copy (3 of 3 offsets scanned).').waitFor();
    await screenshot(page, 'laptop-job-replayed');
    await context.close();
    expect(errors).toEqual([]);
  });

  it('shows a share group with its member, start offset and records in flight, without console errors', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tasks', numPartitions: 1 }] });
    await admin.disconnect();
    const base = `${broker.httpUrl}/v1/share-groups/workers/members`;
    const { memberId } = await call(base, { topics: ['tasks'] });
    // The first fetch starts the share partition (at the latest offset, the default); records produced after it are the group's.
    await call(`${base}/${memberId}/fetch`, { maxRecords: 1 });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'tasks', messages: Array.from({ length: 5 }, (_, i) => ({ value: `task-${i}` })) });
    await producer.disconnect();
    const fetched = await call(`${base}/${memberId}/fetch`, { maxRecords: 3, maxWaitMs: 5000 });
    expect(fetched.records.map((r: { offset: number }) => r.offset)).toEqual([0, 1, 2]);
    await call(`${base}/${memberId}/acknowledgements`, { acknowledgements: [{ topic: 'tasks', partition: 0, firstOffset: 0, lastOffset: 0, type: 'accept' }] });

    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const context = await signedInContext(browser, OPS_TOKEN, viewport);
      const { page, errors } = await consolePage(context);
      await page.goto(`${broker.httpUrl}/#/share-groups`);
      await page.getByRole('row').filter({ has: page.getByRole('link', { name: 'workers' }) }).getByRole('cell', { name: '1', exact: true }).waitFor();
      await screenshot(page, `${name}-share-groups`);
      await page.getByRole('link', { name: 'workers' }).click();
      await expectText(page.getByTestId('share-members'), '1');
      await page.getByRole('cell', { name: memberId }).waitFor();
      const row = page.locator('tr[data-share-partition="tasks-0"]');
      await expectText(row.locator('.start-offset'), '1');
      await expectText(row.locator('.acquired'), '2');
      await expectText(page.getByTestId('share-acquired'), '2');
      await screenshot(page, `${name}-share-group`);
      await context.close();
      expect(errors).toEqual([]);
    }
  });
});

async function call(url: string, body: unknown): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${OPS_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function expectText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: new RegExp(`^${text}$`) }).waitFor();
}
