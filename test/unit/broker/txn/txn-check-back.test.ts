import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, embeddedTransport, nodeFileSystem } from '../../../../broker/mod.ts';
import { FaultInjectingFileSystem } from '../../../../broker/log/fault-injecting-file-system.ts';
import { createHttpApp } from '../../../../broker/http/http-app.ts';
import { Producer, TransactionChecker, type Transport } from '../../../../sdk/mod.ts';
import { type CheckEvent, decodeCheckEvent, encodeCheckEvent, encodeCheckKey, TRANSACTION_CHECKERS_TOPIC, TRANSACTION_CHECKS_TOPIC } from '../../../../sdk/client/txn-check/txn-check-format.ts';
import { readCommittedTopic } from '../../../helpers/read-committed-topic.ts';

const utf8 = new TextEncoder();
const dirs: string[] = [];
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openBroker(dir?: string, transactions = {}, fs = nodeFileSystem): Promise<{ broker: Broker; transport: Transport; dir: string }> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'rill-txn-check-'));
  if (dir === undefined) dirs.push(dataDir);
  const broker = await Broker.open({ config: { dataDir }, fs, transactions: { abortTimedOutIntervalMs: 20, checkIntervalMs: 200, checkMaxAttempts: 50, ...transactions } });
  const transport = embeddedTransport(broker);
  open.push(broker, transport);
  if (!broker.hasTopic('orders')) await broker.createTopic('orders', { partitions: 2 });
  return { broker, transport, dir: dataDir };
}

/** Polls (the coordinator's timers drive the check) until `condition` holds. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function checkEvents(transport: Transport): Promise<CheckEvent[]> {
  return (await readCommittedTopic(transport, TRANSACTION_CHECKS_TOPIC)).map((r) => decodeCheckEvent(r.key, r.value));
}

function answer(transactionalId: string, producerId: number, producerEpoch: number, status: string, extra: object = {}): { key: Uint8Array; value: Uint8Array } {
  const value = encodeCheckEvent({ type: 'answer', transactionalId, producerId, producerEpoch, attempt: 1, status: status as 'commit', source: 'checker', ...extra });
  return { key: encodeCheckKey(transactionalId), value };
}

async function produceRaw(transport: Transport, topic: string, record: { key: Uint8Array; value: Uint8Array | null }): Promise<void> {
  const producer = new Producer(transport, { idempotent: false, retries: 0 });
  try {
    await producer.send({ topic, partition: 0, ...record });
  } finally {
    await producer.close();
  }
}

/** A transaction with 2 records of `id`, left open (its producer is alive but silent). */
async function openTransaction(transport: Transport, id: string, transactionTimeoutMs: number, topic = 'orders'): Promise<Producer> {
  const producer = new Producer(transport, { transactionalId: id, transactionTimeoutMs });
  open.push(producer);
  await producer.beginTransaction();
  await producer.send({ topic, partition: 0, key: utf8.encode(id), value: utf8.encode('a') });
  await producer.send({ topic, partition: 1, key: utf8.encode(id), value: utf8.encode('b') });
  await producer.flush();
  return producer;
}

describe('transaction check-back, in process', () => {
  it('refuses bad registrations with typed errors and writes nothing', async () => {
    const { broker, transport } = await openBroker();
    await expect(TransactionChecker.register(transport, 'a', { kind: 'webhook', url: 'ftp://127.0.0.1/x' })).rejects.toMatchObject({ errorName: 'INVALID_CONFIG' });
    await expect(TransactionChecker.register(transport, 'a', { kind: 'webhook', url: 'not a url' })).rejects.toMatchObject({ errorName: 'INVALID_CONFIG' });
    await expect(TransactionChecker.register(transport, 'a', { kind: 'webhook', url: 'http://127.0.0.1/x', timeoutMs: 0 })).rejects.toMatchObject({ errorName: 'INVALID_CONFIG' });
    await expect(TransactionChecker.register(transport, '', { kind: 'topic' })).rejects.toMatchObject({ errorName: 'INVALID_CONFIG' });
    // A client that skips the SDK's checks meets the broker's.
    const bad = utf8.encode(JSON.stringify({ version: 0, kind: 'webhook', url: 'file:///etc/passwd' }));
    await expect(produceRaw(transport, TRANSACTION_CHECKERS_TOPIC, { key: utf8.encode('a'), value: bad })).rejects.toMatchObject({ errorName: 'INVALID_RECORD' });
    await expect(produceRaw(transport, TRANSACTION_CHECKERS_TOPIC, { key: utf8.encode('a'), value: utf8.encode('{') })).rejects.toMatchObject({ errorName: 'INVALID_RECORD' });
    expect(broker.transactionChecks.registered('a')).toBe(false);
    expect(broker.describeTopic(TRANSACTION_CHECKERS_TOPIC).partitions[0]!.highWatermark).toBe(0);
    await TransactionChecker.register(transport, 'a', { kind: 'webhook', url: 'https://checks.example/tx', timeoutMs: 100 });
    expect(broker.transactionChecks.registration('a')).toEqual({ kind: 'webhook', url: 'https://checks.example/tx', timeoutMs: 100 });
    await TransactionChecker.unregister(transport, 'a');
    expect(broker.transactionChecks.registered('a')).toBe(false);
  });

  it('refuses answers for an unknown id, a stale epoch, no pending check, and checks or outcomes from clients', async () => {
    const { broker, transport } = await openBroker();
    await TransactionChecker.register(transport, 'app', { kind: 'topic' });
    await expect(produceRaw(transport, TRANSACTION_CHECKS_TOPIC, answer('nobody', 0, 0, 'commit'))).rejects.toMatchObject({ errorName: 'TRANSACTIONAL_ID_NOT_FOUND' });
    // An open transaction within its timeout has no check to answer.
    await TransactionChecker.register(transport, 'idle', { kind: 'topic' });
    await broker.createTopic('elsewhere', { partitions: 2 });
    const idle = (await openTransaction(transport, 'idle', 60_000, 'elsewhere')).producerIdentity;
    await expect(produceRaw(transport, TRANSACTION_CHECKS_TOPIC, answer('idle', idle.producerId, idle.producerEpoch, 'commit'))).rejects.toMatchObject({ errorName: 'INVALID_TXN_STATE' });
    const producer = await openTransaction(transport, 'app', 100);
    const { producerId, producerEpoch } = producer.producerIdentity;
    await until(async () => (await checkEvents(transport)).some((e) => e.type === 'check'));
    expect(broker.transactions.describe('app')?.state).toBe('Checking');
    await expect(produceRaw(transport, TRANSACTION_CHECKS_TOPIC, answer('app', producerId, producerEpoch + 1, 'commit'))).rejects.toMatchObject({ errorName: 'INVALID_PRODUCER_EPOCH' });
    await expect(produceRaw(transport, TRANSACTION_CHECKS_TOPIC, answer('app', producerId, producerEpoch, 'maybe'))).rejects.toMatchObject({ errorName: 'INVALID_RECORD' });
    const forged = encodeCheckEvent({ type: 'outcome', transactionalId: 'app', producerId, producerEpoch, result: 'commit', reason: 'answer', attempts: 1 });
    await expect(produceRaw(transport, TRANSACTION_CHECKS_TOPIC, { key: encodeCheckKey('app'), value: forged })).rejects.toMatchObject({ errorName: 'INVALID_RECORD' });
    // The live producer was fenced when the check began: its own commit is refused; the answer decides.
    await expect(producer.commitTransaction()).rejects.toMatchObject({ errorName: 'PRODUCER_FENCED' });
    await produceRaw(transport, TRANSACTION_CHECKS_TOPIC, answer('app', producerId, producerEpoch, 'commit'));
    await until(() => broker.transactions.describe('app')?.state === 'CompleteCommit');
    await expect(produceRaw(transport, TRANSACTION_CHECKS_TOPIC, answer('app', producerId, producerEpoch, 'abort'))).rejects.toMatchObject({ errorName: 'INVALID_PRODUCER_EPOCH' });
    expect((await readCommittedTopic(transport, 'orders')).map((r) => new TextDecoder().decode(r.value!))).toEqual(['a', 'b']);
    const events = await checkEvents(transport);
    expect(events.filter((e) => e.type === 'answer').map((e) => e.type === 'answer' && e.status)).toEqual(['commit']);
    expect(events.at(-1)).toMatchObject({ type: 'outcome', result: 'commit', reason: 'answer', producerId, producerEpoch });
    expect(broker.transactionChecks.stats).toMatchObject({ committed: 1, aborted: 0, answers: { commit: 1 } });
    const http = await createHttpApp(broker);
    const metrics = await (await http.app.request('/metrics', {}, { remoteAddress: '127.0.0.1' })).text();
    http.close();
    expect(metrics).toMatch(/rill_transaction_check_outcomes_total\{result="commit"\} 1/);
    expect(metrics).toMatch(/rill_transaction_check_answers_total\{status="commit"\} 1/);
  });

  it('aborts a timed-out transaction without a check when no checker is registered, as Kafka does', async () => {
    const { broker, transport } = await openBroker();
    await openTransaction(transport, 'plain', 100);
    await until(() => broker.transactions.describe('plain')?.state === 'CompleteAbort');
    expect(broker.transactionChecks.stats.checks).toBe(0);
  });

  it('a check pending across a broker restart resumes: still Checking, attempts counted on from the checks topic, then decided', async () => {
    const first = await openBroker(undefined, { checkIntervalMs: 60_000 });
    await TransactionChecker.register(first.transport, 'app', { kind: 'topic' });
    const producer = await openTransaction(first.transport, 'app', 100);
    const { producerId, producerEpoch } = producer.producerIdentity;
    await until(async () => (await checkEvents(first.transport)).some((e) => e.type === 'check'));
    await produceRaw(first.transport, TRANSACTION_CHECKS_TOPIC, answer('app', producerId, producerEpoch, 'unknown'));
    await producer.close();
    await first.transport.close();
    await first.broker.close();

    // A fresh broker on the same directory: the transaction is still Checking, with one attempt spent.
    const second = await openBroker(first.dir, { checkIntervalMs: 100 });
    expect(second.broker.transactions.describe('app')?.state).toBe('Checking');
    await until(async () => (await checkEvents(second.transport)).filter((e) => e.type === 'check').length >= 2);
    const checks = (await checkEvents(second.transport)).filter((e) => e.type === 'check');
    expect(checks.map((e) => e.type === 'check' && e.attempt).slice(0, 2)).toEqual([1, 2]);
    await produceRaw(second.transport, TRANSACTION_CHECKS_TOPIC, answer('app', producerId, producerEpoch, 'abort', { attempt: 2 }));
    await until(() => second.broker.transactions.describe('app')?.state === 'CompleteAbort');
    expect(await readCommittedTopic(second.transport, 'orders')).toEqual([]);
    const audit = readFileSync(join(first.dir, 'audit.log'), 'utf8');
    expect(audit).toMatch(/"event":"transaction-check-outcome".*"result":"abort","reason":"answer"/);
  });

  it('a crash at any filesystem step from a commit answer to the completed commit: after a restart the transaction ends committed, with one outcome', async () => {
    // No second attempt during a run: the steps counted in the dry run are the answer's only.
    async function setUp(fs: FaultInjectingFileSystem) {
      const opened = await openBroker(undefined, { checkIntervalMs: 60_000 }, fs);
      await TransactionChecker.register(opened.transport, 'app', { kind: 'topic' });
      const producer = await openTransaction(opened.transport, 'app', 100);
      await until(async () => (await checkEvents(opened.transport)).some((e) => e.type === 'check'));
      return { ...opened, held: producer.producerIdentity };
    }
    const dry = new FaultInjectingFileSystem(nodeFileSystem);
    const dryRun = await setUp(dry);
    const before = dry.operations.length;
    await produceRaw(dryRun.transport, TRANSACTION_CHECKS_TOPIC, answer('app', dryRun.held.producerId, dryRun.held.producerEpoch, 'commit'));
    await until(() => dryRun.broker.transactions.describe('app')?.state === 'CompleteCommit');
    const total = dry.operations.length - before;
    expect(total).toBeGreaterThan(4);

    for (let crashAt = 1; crashAt <= total; crashAt++) {
      const fs = new FaultInjectingFileSystem(nodeFileSystem);
      const run = await setUp(fs);
      const { producerId, producerEpoch } = run.held;
      fs.crashAtOperation(crashAt);
      await produceRaw(run.transport, TRANSACTION_CHECKS_TOPIC, answer('app', producerId, producerEpoch, 'commit')).catch(() => undefined);
      await until(() => fs.hasCrashed);
      await run.transport.close();
      await run.broker.close().catch(() => undefined);

      const reopened = await openBroker(run.dir, { checkIntervalMs: 100 });
      // The local transaction did commit: a checker says so whenever it is asked again.
      const checker = new TransactionChecker(reopened.transport, { transactionalIds: ['app'], check: () => 'commit', maxWaitMs: 50 });
      open.push(checker);
      await checker.start();
      await until(() => reopened.broker.transactions.describe('app')?.state === 'CompleteCommit');
      const context = `crash before step ${crashAt} of ${total}`;
      expect((await readCommittedTopic(reopened.transport, 'orders')).map((r) => new TextDecoder().decode(r.value!)), context).toEqual(['a', 'b']);
      const outcomes = (await checkEvents(reopened.transport)).filter((e) => e.type === 'outcome');
      expect(outcomes, context).toMatchObject([{ result: 'commit', producerId, producerEpoch }]);
      await checker.close();
      await reopened.transport.close();
      await reopened.broker.close();
    }
  });

  it('a webhook that times out, then answers garbage, then aborts: two unknown answers with why, then the abort', async () => {
    const { broker, transport } = await openBroker(undefined, { checkIntervalMs: 50 });
    const hanging: ServerResponse[] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls++;
        if (calls === 1) hanging.push(res);
        else if (calls === 2) res.end('not json');
        else res.end(JSON.stringify({ status: 'abort' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => { for (const res of hanging) res.destroy(); server.close(() => resolve()); }) });
    await TransactionChecker.register(transport, 'hooked', { kind: 'webhook', url: `http://127.0.0.1:${(server.address() as { port: number }).port}/check`, timeoutMs: 1_000 });
    await openTransaction(transport, 'hooked', 100);
    await until(() => broker.transactions.describe('hooked')?.state === 'CompleteAbort');
    const answers = (await checkEvents(transport)).filter((e) => e.type === 'answer');
    expect(answers).toMatchObject([
      { status: 'unknown', source: 'webhook', attempt: 1, detail: expect.stringMatching(/webhook call failed/) },
      { status: 'unknown', source: 'webhook', attempt: 2, detail: 'webhook answer is not JSON' },
      { status: 'abort', source: 'webhook', attempt: 3 },
    ]);
    expect(await readCommittedTopic(transport, 'orders')).toEqual([]);
  });
});
