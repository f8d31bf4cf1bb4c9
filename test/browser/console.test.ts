import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../helpers/broker-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { VIEWPORTS, consolePage, launchChromium, screenshot, signedInContext, useToken } from './console-browser.ts';

const OPS_TOKEN = 'console-ops-token';
const READER_TOKEN = 'console-reader-token';

/**
 * The web console in a real Chromium against `rill start` (run `npm run build` first): pages load
 * without errors, a record produced from the form is read back by the record browser and by a Kafka
 * consumer, an offset reset through the UI moves the group, a group's page shows which member is
 * assigned which partition, and a token sees only its topics.
 */
describe('web console in Chromium', () => {
  let broker: BrokerProcess;
  let browser: Browser;
  let configDir: string;
  let kafka: Kafka;

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'rill-console-'));
    const config = join(configDir, 'http.json');
    writeFileSync(
      config,
      JSON.stringify({
        tokens: [
          { name: 'ops', token: OPS_TOKEN, acls: [{ topics: '*', operations: ['read', 'write', 'admin'] }] },
          { name: 'reader', token: READER_TOKEN, acls: [{ topics: 'public-*', operations: ['read'] }] },
        ],
      }),
    );
    [broker, browser] = await Promise.all([startBrokerProcess({ args: ['--http-config', config] }), launchChromium()]);
    kafka = new Kafka({ clientId: 'console-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }, { topic: 'public-news', numPartitions: 1 }] });
    await admin.disconnect();
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.dispose();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('loads every page without console errors, on a laptop and a phone', async () => {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const context = await signedInContext(browser, OPS_TOKEN, viewport);
      const { page, errors } = await consolePage(context);
      await page.goto(`${broker.httpUrl}/`);
      await expectText(page.getByTestId('topic-count'), '2');
      await expectText(page.getByTestId('health'), 'ready');
      await page.locator('.uplot').first().waitFor();
      await screenshot(page, `${name}-overview`);

      // Keyboard: the skip link first, then the page links; Enter follows one.
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Topics');
      await page.keyboard.press('Enter');
      await page.getByRole('link', { name: 'orders' }).waitFor();
      await page.getByLabel('Search topics').fill('news');
      await page.getByRole('link', { name: 'orders' }).waitFor({ state: 'detached' });
      await screenshot(page, `${name}-topics`);

      await page.getByRole('link', { name: 'public-news' }).click();
      await page.getByRole('heading', { name: 'Partitions' }).waitFor();
      await page.getByRole('cell', { name: 'cleanup.policy' }).waitFor();
      await screenshot(page, `${name}-topic`);

      await page.getByRole('link', { name: 'Consumer groups' }).click();
      await page.getByRole('heading', { name: 'Consumer groups' }).waitFor();
      await screenshot(page, `${name}-groups`);

      await page.goto(`${broker.httpUrl}/#/nowhere`);
      await page.getByRole('heading', { name: 'Not found' }).waitFor();
      await context.close();
      expect(errors).toEqual([]);
    }
  });

  it('produces a record from the form that the record browser and a Kafka consumer read back, follows a live tail, and changes a config', async () => {
    const context = await signedInContext(browser, OPS_TOKEN, VIEWPORTS.laptop);
    const { page, errors } = await consolePage(context);
    await page.goto(`${broker.httpUrl}/#/topics/orders`);

    await page.getByLabel('Value', { exact: true }).fill('{"item": "tea", ');
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.getByText('The value is not valid JSON').waitFor();
    await page.getByLabel('Value', { exact: true }).fill('{"item": "tea", "qty": 3}');
    await page.getByLabel('Key (optional)').fill('order-1');
    await page.getByLabel('Partition (optional)').fill('7');
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.getByText('The partition must be empty (the broker picks one) or 0 to 1.').waitFor();
    await page.getByLabel('Partition (optional)').fill('1');
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.getByText('Produced to partition 1 at offset 0.').waitFor();

    await page.locator('select[name="partition"]').selectOption('1');
    await page.getByRole('button', { name: 'Read records' }).click();
    const record = page.locator('li.record[data-offset="0"]');
    await record.waitFor();
    expect(await record.locator('.record-value').textContent()).toBe(JSON.stringify({ item: 'tea', qty: 3 }, null, 2));
    expect(await record.locator('.record-meta code').textContent()).toBe('order-1');
    await screenshot(page, 'laptop-record-browser');

    // A schema's refusal is shown field by field, and nothing is appended.
    const schema = { type: 'object', required: ['item'], properties: { item: { type: 'string' }, qty: { type: 'integer' } } };
    const registered = await fetch(`${broker.httpUrl}/v1/topics/orders/schemas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ schema }),
    });
    expect(registered.status).toBe(201);
    await page.reload();
    await page.getByRole('list', { name: 'Schema versions' }).getByText('version 1').waitFor();
    await page.getByLabel('Value', { exact: true }).fill('{"qty": "three"}');
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.locator('ul.error li', { hasText: '/records/0/value' }).first().waitFor();
    await screenshot(page, 'laptop-produce-schema-errors');

    await page.getByRole('button', { name: 'Start tail' }).click();
    await page.getByText('Following new records of partition 0…').waitFor();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ partition: 0, key: 'k', value: 'from kafka' }] });
    await producer.disconnect();
    await page.locator('li.tailed', { hasText: 'from kafka' }).waitFor();
    await page.getByRole('button', { name: 'Stop tail' }).click();

    await page.locator('select[name="config"]').selectOption('retention.ms');
    await page.getByLabel('New value').fill('soon');
    await page.getByRole('button', { name: 'Set config' }).click();
    await page.getByRole('alert').getByText(/retention\.ms/).waitFor();
    await page.getByLabel('New value').fill('3600000');
    await page.getByRole('button', { name: 'Set config' }).click();
    await page.getByText('retention.ms is now 3600000.').waitFor();
    await page.getByRole('row', { name: 'retention.ms 3600000 topic override' }).waitFor();
    await context.close();
    // The refused produce (422) and config change (400) are the expected failures Chromium logs.
    expect(errors.filter((e) => !/status of (400|422)/.test(e))).toEqual([]);
    expect(errors.length).toBe(2);

    const admin = kafka.admin();
    await admin.connect();
    const described = await admin.describeConfigs({ resources: [{ type: 2, name: 'orders', configNames: ['retention.ms'] }], includeSynonyms: false });
    await admin.disconnect();
    expect(described.resources[0]?.configEntries.map((c) => [c.configName, c.configValue])).toEqual([['retention.ms', '3600000']]);

    const consumer = kafka.consumer({ groupId: 'console-produce-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const received = await new Promise<{ partition: number; key: string; value: string }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (String(message.key) === 'order-1') resolve({ partition, key: String(message.key), value: String(message.value) });
        },
      });
    });
    await consumer.disconnect();
    expect(received).toEqual({ partition: 1, key: 'order-1', value: '{"item":"tea","qty":3}' });
  });

  it('resets a group through the UI after a dry-run preview, and the Kafka API sees the new offsets', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'public-news', messages: Array.from({ length: 5 }, (_, i) => ({ value: `news-${i}` })) });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'news-readers', topic: 'public-news', partitions: [{ partition: 0, offset: '5' }] });

    const context = await signedInContext(browser, OPS_TOKEN, VIEWPORTS.laptop);
    const { page, errors } = await consolePage(context);
    await page.goto(`${broker.httpUrl}/#/groups`);
    await page.getByRole('link', { name: 'news-readers' }).click();
    await expectText(page.getByTestId('total-lag'), '0');
    await page.getByRole('img', { name: 'Total lag, records' }).locator('.uplot').waitFor();

    await page.locator('select[name="target"]').selectOption('offset');
    await page.getByLabel('Offset', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Preview reset' }).click();
    const preview = page.getByRole('region', { name: 'Reset preview' });
    await preview.getByText('partition 0 → offset 2').waitFor();
    // The preview is a dry run: nothing moved yet.
    expect(await admin.fetchOffsets({ groupId: 'news-readers', topics: ['public-news'] })).toEqual([{ topic: 'public-news', partitions: [{ partition: 0, offset: '5', metadata: null }] }]);
    await screenshot(page, 'laptop-group-reset-preview');

    await preview.getByRole('button', { name: 'Confirm reset' }).click();
    await page.getByText('Reset 1 partitions of public-news.').waitFor();
    await expectText(page.getByTestId('total-lag'), '3');
    await screenshot(page, 'laptop-group-after-reset');
    await context.close();
    expect(errors).toEqual([]);

    const offsets = await admin.fetchOffsets({ groupId: 'news-readers', topics: ['public-news'] });
    await admin.disconnect();
    expect(offsets[0]?.partitions[0]?.offset).toBe('2');
  });

  it('shows each member\'s assigned partitions and which member each committed partition is assigned to', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [0, 1].map((partition) => ({ partition, value: `pick-${partition}` })) });
    await producer.disconnect();
    const pickers = ['picker-a', 'picker-b'].map((clientId) =>
      new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).consumer({ groupId: 'order-pickers', heartbeatInterval: 300 }),
    );
    try {
      for (const picker of pickers) {
        await picker.connect();
        await picker.subscribe({ topic: 'orders', fromBeginning: true });
        await picker.run({ eachMessage: async () => {} });
      }
      // Both members assigned, and each has committed what it read: the page then has everything to show.
      const group = await eventually(async () => {
        const response = await fetch(`${broker.httpUrl}/v1/groups/order-pickers`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
        const g = (await response.json()) as PickerGroup;
        const assigned = g.members.flatMap((m) => m.assignment ?? []).flatMap((a) => a.partitions);
        return g.state === 'Stable' && g.members.length === 2 && assigned.length === 2 && g.offsets.length === 2 && g.totalLag === 0 ? g : undefined;
      }, 'two pickers assigned with their offsets committed', 6000);
      const ownerOf = (partition: number) => group.members.find((m) => m.assignment?.some((a) => a.partitions.includes(partition)))!;

      const context = await signedInContext(browser, OPS_TOKEN, VIEWPORTS.laptop);
      const { page, errors } = await consolePage(context);
      await page.goto(`${broker.httpUrl}/#/groups/order-pickers`);
      await page.getByRole('columnheader', { name: 'Assigned partitions' }).waitFor();
      for (const partition of [0, 1]) {
        const owner = ownerOf(partition);
        await expectText(page.locator(`tr[data-member="${owner.memberId}"] td.assignment`), `orders: ${partition}`);
        const ownerCell = page.locator(`tr[data-partition="orders-${partition}"] td.owner`);
        await expectText(ownerCell, `${owner.clientId} \\(${owner.memberId.slice(owner.clientId.length + 1, owner.clientId.length + 9)}\\)`);
        expect(await ownerCell.locator('span').getAttribute('title')).toBe(owner.memberId);
      }
      await screenshot(page, 'laptop-group-assignments');
      await context.close();
      expect(errors).toEqual([]);
    } finally {
      for (const picker of pickers) await picker.disconnect();
    }
  });

  it('shows what a token may see, and says so readably without one', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.phone });
    const page = await context.newPage();
    await page.goto(`${broker.httpUrl}/#/topics`);
    await page.getByRole('alert').getByText(/^Not signed in: .*Enter a valid token above\.$/).waitFor();
    await screenshot(page, 'phone-topics-unauthenticated');

    await useToken(page, READER_TOKEN);
    await page.getByRole('link', { name: 'public-news' }).waitFor();
    expect(await page.locator('.list a').allTextContents()).toEqual(['public-news']);

    await page.goto(`${broker.httpUrl}/#/topics/orders`);
    await page.getByRole('alert').getByText(/^Not allowed: "reader" may not read topic "orders"\.$/).waitFor();
    await screenshot(page, 'phone-topic-forbidden');
    await context.close();
  });

  it('shows the Kafka listener’s byte rates and the log cleaner, with a failed partition highlighted and linked to its topic', async () => {
    const admin = (path: string, method: string, body: unknown): Promise<Response> =>
      fetch(`${broker.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${OPS_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // Segments roll every kilobyte; the compaction lag keeps the cleaner off them until the segment below is damaged.
    const config = { 'cleanup.policy': 'compact', 'segment.bytes': '1024', 'min.compaction.lag.ms': '3600000' };
    expect((await admin('/v1/topics', 'POST', { name: 'profiles', config })).status).toBe(201);
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 6; i++) await producer.send({ topic: 'profiles', acks: -1, messages: [{ key: 'user-1', value: 'x'.repeat(400) }, { key: 'user-2', value: 'y'.repeat(400) }] });
    await producer.disconnect();
    const partitionDir = join(broker.dataDir, 'profiles-0');
    const [sealed, ...later] = readdirSync(partitionDir).filter((n) => n.endsWith('.log')).sort();
    expect(later.length).toBeGreaterThan(0);
    const bytes = readFileSync(join(partitionDir, sealed!));
    bytes[bytes.length - 2]! ^= 0xff;
    writeFileSync(join(partitionDir, sealed!), bytes);
    expect((await admin('/v1/topics/profiles/config', 'PATCH', { 'min.compaction.lag.ms': '0' })).status).toBe(200);

    const context = await signedInContext(browser, OPS_TOKEN, VIEWPORTS.laptop);
    const { page, errors } = await consolePage(context);
    await page.goto(`${broker.httpUrl}/`);
    await page.getByTestId('kafka-bytes-in').filter({ hasText: /^\d+(\.\d)? [kMGT]?B\/s$/ }).waitFor();
    await page.getByTestId('kafka-bytes-out').filter({ hasText: /^\d+(\.\d)? [kMGT]?B\/s$/ }).waitFor();
    await page.getByRole('img', { name: 'Kafka bytes per second, bytes/s' }).waitFor();
    const panel = page.getByTestId('cleaner-panel');
    await expectText(panel.getByTestId('cleaner-partitions'), '1');
    // The cleaner looks again after its back-off (15 s by default), then fails on the damaged segment.
    const failed = panel.locator('tr.failed[data-partition="profiles-0"]');
    await failed.waitFor({ timeout: 45_000 });
    await expectText(panel.getByTestId('cleaner-failed'), '1');
    expect(await failed.locator('td').nth(1).textContent()).toBe('failed');
    expect(await failed.locator('td').nth(4).textContent()).toContain('CRC-32C mismatch');
    await screenshot(page, 'laptop-overview-cleaner');
    await failed.getByRole('link', { name: 'profiles' }).click();
    await page.getByRole('heading', { name: 'Partitions' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/topics/profiles');
    await context.close();
    expect(errors).toEqual([]);
  }, 90_000);
});

interface PickerGroup {
  state: string;
  members: { memberId: string; clientId: string; assignment: { topic: string; partitions: number[] }[] | null }[];
  offsets: unknown[];
  totalLag: number;
}

async function expectText(locator: import('playwright-core').Locator, text: string): Promise<void> {
  await locator.filter({ hasText: new RegExp(`^${text}$`) }).waitFor();
}
