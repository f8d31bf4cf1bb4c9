import { AssignerProtocol, type Consumer, type EachMessagePayload, Kafka, logLevel, type PartitionAssigner } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess } from '../helpers/child-process.ts';
import { StormLedger, StormMember } from './consumer-groups/storm-member.ts';

/** kafkajs' minimum heartbeat cadence keeps sessions alive well inside this; Kafka's default floor is 6 s. */
const SESSION_TIMEOUT_MS = 6_000;

const brokers: BrokerProcess[] = [];
const consumers: Consumer[] = [];

afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.disconnect().catch(() => undefined);
});

afterAll(async () => {
  for (const broker of brokers.splice(0)) await broker.dispose();
});

async function startBroker(options: Parameters<typeof startBrokerProcess>[0] = {}): Promise<BrokerProcess> {
  const broker = await startBrokerProcess(options);
  brokers.push(broker);
  return broker;
}

function client(broker: BrokerProcess, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

function consumer(kafka: Kafka, groupId: string, options: { partitionAssigners?: PartitionAssigner[] } = {}): Consumer {
  const c = kafka.consumer({
    groupId,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: 500,
    rebalanceTimeout: 10_000,
    // kafkajs heartbeats between fetches; a short long-poll lets members notice a rebalance sooner.
    maxWaitTimeInMs: 500,
    ...options,
  });
  consumers.push(c);
  return c;
}

async function produce(kafka: Kafka, topic: string, messages: { partition: number; value: string }[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

async function createTopic(kafka: Kafka, topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
  await admin.disconnect();
}

/** Resolves with the values once `predicate` holds for them; `update` is called from event handlers. */
class Condition<T> {
  private resolve!: (value: T) => void;
  readonly met: Promise<T>;
  constructor(private readonly predicate: (value: T) => boolean) {
    this.met = new Promise((resolve) => (this.resolve = resolve));
  }
  update(value: T): void {
    if (this.predicate(value)) this.resolve(value);
  }
}

/** Rejects when `promise` does not settle within `ms`: the bound a requirement states, not a synchronisation. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('consumer groups against the broker process', () => {
  it('splits six partitions across three consumers and hands a stopped consumer’s partitions to the others', async () => {
    const broker = await startBroker();
    const kafka = client(broker, 'split');
    await createTopic(kafka, 'split-topic', 6);
    const assignments = new Map<string, number[]>();
    const snapshot = () => [...assignments.values()].map((p) => [...p].sort((a, b) => a - b));
    const threeWay = new Condition<number[][]>((a) => a.length === 3 && a.every((p) => p.length === 2) && new Set(a.flat()).size === 6);
    // Created once the three-way split is seen, so the two-member generation before it cannot satisfy it.
    let twoWay: Condition<number[][]> | undefined;
    const members = ['c1', 'c2', 'c3'].map((name) => {
      const c = consumer(kafka, 'split-group');
      c.on(c.events.GROUP_JOIN, (e) => {
        assignments.set(name, e.payload.memberAssignment['split-topic'] ?? []);
        threeWay.update(snapshot());
        twoWay?.update(snapshot());
      });
      return c;
    });
    for (const c of members) {
      await c.connect();
      await c.subscribe({ topic: 'split-topic', fromBeginning: true });
      await c.run({ eachMessage: async () => undefined });
    }
    const split = await threeWay.met;
    expect(split.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);

    twoWay = new Condition<number[][]>((a) => a.length === 2 && a.every((p) => p.length === 3) && new Set(a.flat()).size === 6);
    await members[2]!.disconnect();
    assignments.delete('c3');
    const rebalanced = await within(twoWay.met, SESSION_TIMEOUT_MS, 'the rebalance after a consumer stopped');
    expect(rebalanced.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('moves a crashed consumer’s partitions to the others once its session times out', async () => {
    const broker = await startBroker();
    const kafka = client(broker, 'crash');
    await createTopic(kafka, 'crash-topic', 4);
    // A consumer in its own process, killed without a LeaveGroup: only its session expiry can free its partitions.
    const script = `
      const { Kafka, logLevel } = require('kafkajs');
      const kafka = new Kafka({ clientId: 'doomed', brokers: ['${broker.bootstrap}'], logLevel: logLevel.NOTHING });
      const c = kafka.consumer({ groupId: 'crash-group', sessionTimeout: ${SESSION_TIMEOUT_MS}, heartbeatInterval: 500, maxWaitTimeInMs: 500 });
      c.on(c.events.GROUP_JOIN, (e) => console.log('assigned ' + JSON.stringify(e.payload.memberAssignment['crash-topic'] || [])));
      c.connect().then(() => c.subscribe({ topic: 'crash-topic' })).then(() => c.run({ eachMessage: async () => {} }));
    `;
    const doomed = new ManagedProcess(process.execPath, ['-e', script]);
    try {
      await doomed.waitForLine(/^assigned /);
      const assignments = new Map<string, number[]>();
      const snapshot = () => [...assignments.values()].map((p) => [...p].sort((a, b) => a - b));
      // Both survivors hold partitions and the doomed process holds the rest.
      const shared = new Condition<number[][]>((a) => a.length === 2 && a.every((p) => p.length >= 1) && new Set(a.flat()).size < 4);
      let takenOver: Condition<number[][]> | undefined;
      for (const name of ['s1', 's2']) {
        const c = consumer(kafka, 'crash-group');
        c.on(c.events.GROUP_JOIN, (e) => {
          assignments.set(name, e.payload.memberAssignment['crash-topic'] ?? []);
          shared.update(snapshot());
          takenOver?.update(snapshot());
        });
        await c.connect();
        await c.subscribe({ topic: 'crash-topic' });
        await c.run({ eachMessage: async () => undefined });
      }
      await shared.met;
      takenOver = new Condition<number[][]>((a) => a.length === 2 && new Set(a.flat()).size === 4);
      await doomed.stop('SIGKILL');
      // The session timeout, plus the survivors' next heartbeat and rejoin.
      const final = await within(takenOver.met, 2 * SESSION_TIMEOUT_MS, 'the takeover after a consumer crashed');
      expect(final.flat().sort()).toEqual([0, 1, 2, 3]);
    } finally {
      await doomed.stop('SIGKILL');
    }
  });

  it('processes every record across a rebalance storm with killed members, reprocessing only records after the last commit', async () => {
    // RILL_CRASH_FULL=1: the 200,000 records and a longer storm; otherwise 50,000 records and two kills.
    const full = process.env.RILL_CRASH_FULL === '1';
    const total = full ? 200_000 : 50_000;
    const steps: ('join' | 'kill' | 'leave')[] = full
      ? ['join', 'kill', 'join', 'leave', 'join', 'kill', 'join', 'kill', 'join', 'leave', 'join', 'kill']
      : ['join', 'kill', 'join', 'leave', 'join', 'kill'];
    const partitions = 6;
    const chunk = 2_000;
    const broker = await startBroker();
    const kafka = client(broker, 'storm');
    await createTopic(kafka, 'storm-topic', partitions);

    const ledger = new StormLedger(partitions);
    const members: StormMember[] = [];
    const killed: StormMember[] = [];
    const running = () => members.filter((m) => m.running);
    onTestFinished(() => {
      for (const member of members) member.child.kill('SIGKILL');
    });
    const join = async (): Promise<void> => {
      const member = new StormMember(members.length, ledger, {
        bootstrap: broker.bootstrap,
        topic: 'storm-topic',
        groupId: 'storm-group',
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        workIterations: 2_000,
      });
      members.push(member);
      await ledger.until(() => member.assignments > 0 || !member.running);
      expect(member.running, member.stderr).toBe(true);
    };

    // The records come in phases, one per step. A step starts once half of its phase is processed and
    // lets the producer write the next phase, so every step lands while records flow and the producer
    // writes throughout the storm.
    const phase = total / (steps.length + 1);
    let allowance = phase;
    let sent = 0;
    const producing = (async () => {
      const producer = kafka.producer();
      await producer.connect();
      for (; sent < total; sent += chunk) {
        await ledger.until(() => sent < allowance);
        const messages = Array.from({ length: chunk }, (_, i) => ({ partition: (sent + i) % partitions, value: String(sent + i) }));
        await producer.send({ topic: 'storm-topic', acks: -1, messages });
      }
      await producer.disconnect();
    })();
    await join();
    await join();
    for (const [i, step] of steps.entries()) {
      await ledger.until(() => ledger.distinct >= i * phase + phase / 2);
      allowance += phase;
      ledger.changed();
      if (step === 'join') {
        await join();
      } else if (step === 'leave') {
        const member = running()[0]!;
        member.child.kill('SIGTERM');
        expect((await member.exited).code, member.stderr).toBe(0);
      } else {
        // Not a graceful leave: the member dies mid-batch and its partitions move after its session expires.
        const victim = running().find((m) => m.assigned.length > 0)!;
        victim.killMidBatch();
        expect((await victim.exited).signal, victim.stderr).toBe('SIGKILL');
        killed.push(victim);
      }
    }
    await producing;
    await ledger.until(() => ledger.distinct === total);
    for (const member of running()) member.child.kill('SIGTERM');
    for (const member of members) await member.exited;

    // The union of what the group processed is every record, each on the partition it was written to.
    const values = new Set<number>();
    const misplaced: string[] = [];
    for (const [partition, seen] of ledger.processed.entries()) {
      for (const value of seen.values()) {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0 || n >= total || n % partitions !== partition) misplaced.push(`${value} on partition ${partition}`);
        values.add(n);
      }
    }
    expect(misplaced).toEqual([]);
    expect(values.size).toBe(total);

    // Each killed member died with at least 50 records of one partition processed after its last commit,
    // and the group processed every one of them again.
    const again = new Set(ledger.reprocessed.map((r) => `${r.partition}/${r.offset}`));
    expect(killed).toHaveLength(steps.filter((s) => s === 'kill').length);
    for (const member of killed) {
      expect(member.tail.offsets.length).toBeGreaterThanOrEqual(50);
      expect(member.tail.offsets.filter((o) => !again.has(`${member.tail.partition}/${o}`))).toEqual([]);
    }
    // Every record processed again was at or after the highest offset committed for its partition at that moment.
    expect(ledger.reprocessed.filter((r) => r.offset < r.committedOffset)).toEqual([]);
  }, 240_000);

  it('resumes a restarted consumer at its last commit, with no loss and no reprocessing, across a broker restart', async () => {
    let broker = await startBroker();
    const { dataDir, port } = broker;
    let kafka = client(broker, 'resume');
    await createTopic(kafka, 'resume-topic', 2);
    await produce(kafka, 'resume-topic', Array.from({ length: 40 }, (_, i) => ({ partition: i % 2, value: `r${i}` })));

    // The first consumer processes 10 records per partition, committing after each, then stops.
    const first = consumer(kafka, 'resume-group');
    const processed: string[] = [];
    const tenEach = new Condition<string[]>((values) => values.length === 20);
    await first.connect();
    await first.subscribe({ topic: 'resume-topic', fromBeginning: true });
    await first.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message, pause }: EachMessagePayload) => {
        if (processed.filter((v) => Number(v.slice(1)) % 2 === partition).length >= 10) {
          pause();
          return;
        }
        processed.push(message.value!.toString());
        await first.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
        tenEach.update(processed);
      },
    });
    await tenEach.met;
    await first.disconnect();

    // The broker restarts; the committed offsets survive it.
    await broker.stop('SIGTERM');
    broker = await startBroker({ dataDir, port });
    kafka = client(broker, 'resume');
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'resume-group', topics: ['resume-topic'] });
    await admin.disconnect();
    expect(committed[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '10'],
      [1, '10'],
    ]);

    const second = consumer(kafka, 'resume-group');
    const rest: string[] = [];
    const allRest = new Condition<string[]>((values) => values.length === 20);
    await second.connect();
    await second.subscribe({ topic: 'resume-topic', fromBeginning: true });
    await second.run({
      eachMessage: async ({ message }) => {
        rest.push(message.value!.toString());
        allRest.update(rest);
      },
    });
    await allRest.met;
    const union = [...processed, ...rest].sort();
    expect(union).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`).sort());
    expect(new Set(union).size).toBe(40);
  });

  it('lets two groups read the same topic independently', async () => {
    const broker = await startBroker();
    const kafka = client(broker, 'two');
    await createTopic(kafka, 'shared-topic', 3);
    const values = Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `s${i}` }));
    await produce(kafka, 'shared-topic', values);
    const read = async (groupId: string): Promise<string[]> => {
      const c = consumer(kafka, groupId);
      const seen: string[] = [];
      const all = new Condition<string[]>((v) => v.length === values.length);
      await c.connect();
      await c.subscribe({ topic: 'shared-topic', fromBeginning: true });
      await c.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          all.update(seen);
        },
      });
      return all.met;
    };
    const [a, b] = await Promise.all([read('group-a'), read('group-b')]);
    const expected = values.map((v) => v.value).sort();
    expect([...a].sort()).toEqual(expected);
    expect([...b].sort()).toEqual(expected);
  });

  it('rejects a newcomer sharing no assignor protocol with INCONSISTENT_GROUP_PROTOCOL', async () => {
    const broker = await startBroker();
    const kafka = client(broker, 'protocols');
    await createTopic(kafka, 'protocol-topic', 1);
    const assigner =
      (name: string): PartitionAssigner =>
      () => ({
        name,
        version: 0,
        async assign({ members }) {
          return members.map((m) => ({
            memberId: m.memberId,
            memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: {}, userData: Buffer.alloc(0) }),
          }));
        },
        protocol({ topics }) {
          return { name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
        },
      });
    const first = consumer(kafka, 'protocol-group', { partitionAssigners: [assigner('first-assignor')] });
    const joined = new Promise<void>((resolve) => first.on(first.events.GROUP_JOIN, () => resolve()));
    await first.connect();
    await first.subscribe({ topic: 'protocol-topic' });
    await first.run({ eachMessage: async () => undefined });
    await joined;

    const newcomer = kafka.consumer({
      groupId: 'protocol-group',
      sessionTimeout: SESSION_TIMEOUT_MS,
      partitionAssigners: [assigner('other-assignor')],
      retry: { retries: 0, restartOnFailure: async () => false },
    });
    consumers.push(newcomer);
    const crashed = new Promise<unknown>((resolve) => newcomer.on(newcomer.events.CRASH, (e) => resolve(e.payload.error)));
    await newcomer.connect();
    await newcomer.subscribe({ topic: 'protocol-topic' });
    await newcomer.run({ eachMessage: async () => undefined });
    expect(await crashed).toMatchObject({ type: 'INCONSISTENT_GROUP_PROTOCOL' });
  });
});
