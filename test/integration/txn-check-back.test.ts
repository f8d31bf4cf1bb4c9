import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, TcpTransport, type Transport } from '../../sdk/mod.ts';
import { type CheckEvent, decodeCheckEvent, TRANSACTION_CHECKS_TOPIC } from '../../sdk/client/txn-check/txn-check-format.ts';
import { decideFromDb, readDb } from '../../examples/txn-check-back/local-db.ts';
import { ManagedProcess, type Runtime, runtimeCommand } from '../helpers/child-process.ts';
import { readCommittedTopic } from '../helpers/read-committed-topic.ts';
import { eventually } from '../helpers/eventually.ts';

const MAIN = 'examples/txn-check-back/main.ts';
const TXN_ID = 'orders-writer';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function role(runtime: Runtime, args: string[]): ManagedProcess {
  const [command, commandArgs] = runtimeCommand(runtime, MAIN, args);
  const proc = new ManagedProcess(command, commandArgs);
  cleanups.push(() => proc.stop('SIGKILL').then(() => undefined));
  return proc;
}

interface Setup {
  dir: string;
  db: string;
  bootstrap: string;
  port: number;
  broker: ManagedProcess;
  transport: Transport;
}

async function startBroker(runtime: Runtime, dataDir: string, port: number, checkIntervalMs: number, checkMaxAttempts: number): Promise<{ broker: ManagedProcess; port: number }> {
  const broker = role(runtime, ['broker', dataDir, String(port), String(checkIntervalMs), String(checkMaxAttempts)]);
  const line = await broker.waitForLine(/broker listening on \d+/);
  return { broker, port: Number(/on (\d+)/.exec(line)![1]) };
}

function connect(port: number): Transport {
  const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${port}`] });
  cleanups.push(() => transport.close());
  return transport;
}

async function setup(runtime: Runtime, checkIntervalMs = 300, checkMaxAttempts = 5): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'rill-check-back-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { broker, port } = await startBroker(runtime, join(dir, 'data'), 0, checkIntervalMs, checkMaxAttempts);
  const transport = connect(port);
  await new Admin(transport).createTopics([{ name: 'orders', numPartitions: 2 }]);
  return { dir, db: join(dir, 'db.jsonl'), bootstrap: `127.0.0.1:${port}`, port, broker, transport };
}

/**
 * Runs the producer until it stops at `stopAt`, then kills it (SIGKILL); returns the identity it
 * held. Its transaction timeout must outlast its first send to its local commit, or the check
 * could come first (see the check-back notes in DESIGN.md): 2 s is far more than that takes.
 */
async function produceAndKill(runtime: Runtime, s: Setup, stopAt: 'before-local-commit' | 'after-local-commit', timeoutMs: number, webhookUrl?: string): Promise<{ producerId: number; producerEpoch: number }> {
  const producer = role(runtime, ['produce', s.bootstrap, s.db, TXN_ID, 'orders', 'o-1', stopAt, String(timeoutMs), ...(webhookUrl === undefined ? [] : [webhookUrl])]);
  const [, producerId, producerEpoch] = /flushed (\d+) (\d+)/.exec(await producer.waitForLine(/flushed \d+ \d+/))!;
  await producer.waitForLine(/^stopped$/);
  await producer.stop('SIGKILL');
  return { producerId: Number(producerId), producerEpoch: Number(producerEpoch) };
}

async function checkEvents(transport: Transport): Promise<CheckEvent[]> {
  return (await readCommittedTopic(transport, TRANSACTION_CHECKS_TOPIC)).map((r) => decodeCheckEvent(r.key, r.value));
}

/** Waits (polling the checks topic, where the coordinator's timers write) for the check's outcome. */
function outcome(transport: Transport): Promise<{ events: CheckEvent[]; outcome: Extract<CheckEvent, { type: 'outcome' }> }> {
  return eventually(async () => {
    const events = await checkEvents(transport);
    const last = events.find((e) => e.type === 'outcome');
    return last?.type === 'outcome' ? { events, outcome: last } : undefined;
  }, 'the check outcome in __transaction_checks');
}

async function committedOrders(transport: Transport): Promise<string[]> {
  return (await readCommittedTopic(transport, 'orders')).map((r) => new TextDecoder().decode(r.value!)).sort();
}

const ALL_THREE = ['o-1/0', 'o-1/1', 'o-1/2'];

/** A producer killed after its local commit, a standing checker: the timed-out transaction is committed. */
async function committedByStandingChecker(runtime: Runtime): Promise<void> {
  const s = await setup(runtime);
  const checker = role(runtime, ['check', s.bootstrap, s.db, TXN_ID]);
  await checker.waitForLine(/^checking$/);
  const held = await produceAndKill(runtime, s, 'after-local-commit', 2_000);
  expect(readDb(s.db)).toEqual([{ orderId: 'o-1', ...held, state: 'committed' }]);
  const { events, outcome: o } = await outcome(s.transport);
  expect(o).toMatchObject({ result: 'commit', reason: 'answer', ...held });
  expect(events.find((e) => e.type === 'answer')).toMatchObject({ status: 'commit', source: 'checker', ...held });
  await checker.waitForLine(new RegExp(`answered commit ${held.producerId} ${held.producerEpoch}`));
  expect(await committedOrders(s.transport)).toEqual(ALL_THREE);
}

describe('transaction check-back with real processes (node)', () => {
  it('a producer SIGKILLed after its local commit and before EndTxn: its timed-out transaction is committed by the check', async () => {
    await committedByStandingChecker('node');
  });

  it.each([
    ['before-local-commit', 'abort', []],
    ['after-local-commit', 'commit', ALL_THREE],
  ] as const)('killed %s, its restarted successor resolves the open transaction through the check before it starts: %s', async (stopAt, result, expected) => {
    const s = await setup('node');
    const held = await produceAndKill('node', s, stopAt, 60_000);
    const successor = role('node', ['successor', s.bootstrap, s.db, TXN_ID]);
    const [, producerId, producerEpoch] = /initialized (\d+) (\d+)/.exec(await successor.waitForLine(/initialized \d+ \d+/))!;
    expect(Number(producerId)).toBe(held.producerId);
    // Fenced twice past the dead instance: once for the check, once for the successor itself.
    expect(Number(producerEpoch)).toBe(held.producerEpoch + 2);
    expect((await successor.exit()).code).toBe(0);
    const { outcome: o } = await outcome(s.transport);
    expect(o).toMatchObject({ result, reason: 'answer', ...held });
    expect(await committedOrders(s.transport)).toEqual(expected);
  });

  it('a checker that answers unknown every time: the transaction is aborted after the bounded attempts, every one audited', async () => {
    const s = await setup('node', 200, 3);
    const checker = role('node', ['check', s.bootstrap, s.db, TXN_ID, 'unknown']);
    await checker.waitForLine(/^checking$/);
    const held = await produceAndKill('node', s, 'after-local-commit', 2_000);
    const { events, outcome: o } = await outcome(s.transport);
    expect(o).toMatchObject({ result: 'abort', reason: 'attempts-exhausted', attempts: 3, ...held });
    expect(events.filter((e) => e.type === 'check').map((e) => e.type === 'check' && e.attempt)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === 'answer').every((e) => e.type === 'answer' && e.status === 'unknown')).toBe(true);
    expect(await committedOrders(s.transport)).toEqual([]);
    const audit = readFileSync(join(s.dir, 'data', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; attempt?: number; reason?: string });
    expect(audit.filter((l) => l.event === 'transaction-check').map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(audit.filter((l) => l.event === 'transaction-check-outcome')).toMatchObject([{ reason: 'attempts-exhausted', result: 'abort' }]);
  });

  it('a webhook checker: the broker POSTs the check to a real HTTP server on 127.0.0.1 and commits on its answer', async () => {
    const s = await setup('node');
    const calls: { transactionalId: string; producerId: number; producerEpoch: number; attempt: number }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const check = JSON.parse(body) as (typeof calls)[number];
        calls.push(check);
        res.setHeader('content-type', 'application/json');
        // The first call fails (a 503): the coordinator counts it as unknown and asks again.
        if (calls.length === 1) {
          res.statusCode = 503;
          res.end('{}');
          return;
        }
        res.end(JSON.stringify({ status: decideFromDb(s.db, check.producerId, check.producerEpoch) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/checks`;
    const held = await produceAndKill('node', s, 'after-local-commit', 2_000, url);
    const { events, outcome: o } = await outcome(s.transport);
    expect(o).toMatchObject({ result: 'commit', reason: 'answer', attempts: 2, ...held });
    expect(calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(calls[0]).toMatchObject({ transactionalId: TXN_ID, ...held });
    expect(events.filter((e) => e.type === 'answer')).toMatchObject([
      { source: 'webhook', status: 'unknown', detail: 'webhook answered HTTP 503' },
      { source: 'webhook', status: 'commit' },
    ]);
    expect(await committedOrders(s.transport)).toEqual(ALL_THREE);
  });

  it('a broker SIGKILLed while a check is pending: after the restart the check goes on from its durable state and commits', async () => {
    const s = await setup('node', 400, 100);
    const held = await produceAndKill('node', s, 'after-local-commit', 2_000);
    await eventually(async () => ((await checkEvents(s.transport)).some((e) => e.type === 'check') ? true : undefined), 'a check in __transaction_checks');
    await s.broker.stop('SIGKILL');
    const { port } = await startBroker('node', join(s.dir, 'data'), s.port, 400, 100);
    const transport = connect(port);
    const before = (await checkEvents(transport)).filter((e) => e.type === 'check').length;
    expect(before).toBeGreaterThanOrEqual(1);
    const checker = role('node', ['check', s.bootstrap, s.db, TXN_ID]);
    await checker.waitForLine(/^checking$/);
    const { events, outcome: o } = await outcome(transport);
    expect(o).toMatchObject({ result: 'commit', reason: 'answer', ...held });
    const attempts = events.filter((e) => e.type === 'check').map((e) => (e.type === 'check' ? e.attempt : 0));
    // Attempts are counted across the crash: never repeated, never restarted at 1.
    expect(attempts).toEqual(attempts.map((_, i) => i + 1));
    expect(await committedOrders(transport)).toEqual(ALL_THREE);
  });
});

describe.each(['bun', 'deno'] as const)('transaction check-back with real processes (%s)', (runtime) => {
  it('broker, producer and checker on this runtime: a producer killed after its local commit has its transaction committed by the check', async () => {
    await committedByStandingChecker(runtime);
  });
});
