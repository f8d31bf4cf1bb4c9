import {
  Admin,
  type Assignor,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  cooperativeStickyAssignor,
  Producer,
  rangeAssignor,
  roundRobinAssignor,
  isKafkaError,
  stringSerde,
  type TopicPartition,
  type Transport,
} from '../../sdk/mod.ts';

type Check = (condition: boolean, what: string) => void;

/** Wakes `until` waiters whenever something changes, re-checking their predicate (no timers). */
class Changes {
  private waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  notify(): void {
    const ready = this.waiters.filter((w) => w.predicate());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }
}

const key = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

/** One subscribed consumer and what its callbacks and iteration saw. */
class Member {
  readonly consumer: Consumer<string, string>;
  readonly owned = new Set<string>();
  readonly revoked: string[] = [];
  readonly lost: string[] = [];
  readonly records: ConsumerRecord<string, string>[] = [];
  readonly done: Promise<void>;

  constructor(transport: Transport, groupId: string, topic: string, changes: Changes, options: ConsumerOptions<string, string>) {
    this.consumer = new Consumer(transport, {
      groupId,
      keySerde: stringSerde,
      valueSerde: stringSerde,
      maxWaitMs: 100,
      heartbeatIntervalMs: 100,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      autoOffsetReset: 'earliest',
      ...options,
    });
    this.consumer.subscribe([topic], {
      onPartitionsAssigned: (ps) => {
        for (const tp of ps) this.owned.add(key(tp));
        changes.notify();
      },
      onPartitionsRevoked: (ps) => {
        for (const tp of ps) this.owned.delete(key(tp));
        this.revoked.push(...ps.map(key));
        changes.notify();
      },
      onPartitionsLost: (ps) => {
        for (const tp of ps) this.owned.delete(key(tp));
        this.lost.push(...ps.map(key));
        changes.notify();
      },
    });
    const consumer = this.consumer;
    this.done = (async () => {
      for await (const record of consumer) {
        this.records.push(record);
        changes.notify();
      }
    })();
  }

  async close(): Promise<void> {
    await this.consumer.close();
    await this.done;
  }
}

/** Whether `members` own `sizes` partitions (in any order) that together are all `count` of `topic`, each once. */
function split(members: readonly Member[], count: number, sizes: readonly number[]): boolean {
  const all = members.flatMap((m) => [...m.owned]);
  const got = members.map((m) => m.owned.size).sort();
  return new Set(all).size === count && all.length === count && got.join() === [...sizes].sort().join();
}

async function produce(transport: Transport, topic: string, partitions: number, perPartition: number, tag: string): Promise<void> {
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, lingerMs: 1 });
  const sends: Promise<unknown>[] = [];
  for (let p = 0; p < partitions; p++) for (let i = 0; i < perPartition; i++) sends.push(producer.send({ topic, partition: p, value: `${tag}-${p}-${i}` }));
  await Promise.all(sends);
  await producer.close();
}

function exactlyOnce(records: readonly ConsumerRecord<string, string>[], expected: number): boolean {
  const values = new Set(records.map((r) => r.value));
  return values.size === expected && records.length === expected;
}

/**
 * Three members split six partitions with `assignor`; all records arrive once; one member closing
 * hands its partitions to the other two, which read what is produced next.
 */
export async function groupSplitStep(transport: Transport, prefix: string, assignor: Assignor, check: Check): Promise<void> {
  const admin = new Admin(transport);
  const topic = `${prefix}-split-${assignor.name}`;
  await admin.createTopics([{ name: topic, numPartitions: 6 }]);
  await produce(transport, topic, 6, 5, 'a');
  const changes = new Changes();
  const members = [0, 1, 2].map(() => new Member(transport, `${prefix}-g-${assignor.name}`, topic, changes, { assignors: [assignor] }));
  const records = () => members.flatMap((m) => m.records);
  await changes.until(() => split(members, 6, [2, 2, 2]) && records().length >= 30);
  check(exactlyOnce(records(), 30), `${assignor.name}: three members split six partitions 2/2/2 and read every record once`);
  const [leaving, ...staying] = members as [Member, Member, Member];
  await leaving.close();
  await changes.until(() => split(staying, 6, [3, 3]));
  await produce(transport, topic, 6, 5, 'b');
  const after = () => staying.flatMap((m) => m.records).filter((r) => r.value!.startsWith('b-'));
  await changes.until(() => after().length >= 30);
  check(exactlyOnce(after(), 30), `${assignor.name}: a member closing rebalances its partitions to the other two, which read every new record once`);
  if (assignor.protocol === 'cooperative') {
    check(staying.every((m) => m.revoked.length === 0), `${assignor.name}: the members that stay revoke nothing when one leaves`);
  }
  for (const m of staying) await m.close();
}

/** Cooperative-sticky: a fourth member joining takes one partition (2/2/1/1); only that one is revoked from its owner. */
export async function cooperativeStep(transport: Transport, prefix: string, check: Check): Promise<void> {
  const admin = new Admin(transport);
  const topic = `${prefix}-coop`;
  await admin.createTopics([{ name: topic, numPartitions: 6 }]);
  const changes = new Changes();
  const options = { assignors: [cooperativeStickyAssignor] };
  const members = [0, 1, 2].map(() => new Member(transport, `${prefix}-g-coop`, topic, changes, options));
  await changes.until(() => split(members, 6, [2, 2, 2]));
  const before = members.map((m) => new Set(m.owned));
  const revokedBefore = members.map((m) => m.revoked.length);
  const newcomer = new Member(transport, `${prefix}-g-coop`, topic, changes, options);
  const all = [...members, newcomer];
  await changes.until(() => split(all, 6, [2, 2, 1, 1]));
  const revoked = members.flatMap((m, i) => m.revoked.slice(revokedBefore[i]));
  check(
    revoked.length === 1 && revoked.every((p) => newcomer.owned.has(p)) && [...newcomer.owned].every((p) => revoked.includes(p)),
    'cooperative-sticky: a joining member gets one partition and only that one is revoked',
  );
  check(
    members.every((m, i) => [...m.owned].every((p) => before[i]!.has(p))),
    'cooperative-sticky: every other partition stays with its owner',
  );
  for (const m of all) await m.close();
}

/**
 * Manual commit, close and a new member resuming at the commit; auto-commit on close likewise;
 * a static member returning under its instance id gets its partitions back without a rebalance.
 */
export async function commitStep(transport: Transport, prefix: string, check: Check): Promise<void> {
  const admin = new Admin(transport);
  const topic = `${prefix}-commit`;
  const groupId = `${prefix}-g-commit`;
  await admin.createTopics([{ name: topic, numPartitions: 2 }]);
  await produce(transport, topic, 2, 10, 'a');
  const changes = new Changes();
  const first = new Member(transport, groupId, topic, changes, { enableAutoCommit: false });
  await changes.until(() => first.records.length >= 20);
  await first.consumer.commit();
  const committed = await first.consumer.committed([0, 1].map((partition) => ({ topic, partition })));
  check(committed.every((c) => c.offset === 10), 'commit() stores the consumed positions, committed() reads them back');
  await first.close();
  await produce(transport, topic, 2, 5, 'b');
  const second = new Member(transport, groupId, topic, changes, { enableAutoCommit: true, autoCommitIntervalMs: 60_000 });
  await changes.until(() => second.records.length >= 10);
  check(
    exactlyOnce(second.records, 10) && second.records.every((r) => r.value!.startsWith('b-') && r.offset >= 10),
    'a restarted member resumes at the committed offsets: nothing lost, nothing repeated',
  );
  await second.close();
  const offsets = await new Consumer(transport, { groupId }).committed([0, 1].map((partition) => ({ topic, partition })));
  check(offsets.every((c) => c.offset === 15), 'auto-commit commits the consumed positions on close');

  const staticTopic = `${prefix}-static`;
  const staticGroup = `${prefix}-g-static`;
  await admin.createTopics([{ name: staticTopic, numPartitions: 4 }]);
  const members = ['a', 'b'].map((id) => new Member(transport, staticGroup, staticTopic, changes, { groupInstanceId: `${prefix}-${id}`, assignors: [rangeAssignor] }));
  await changes.until(() => split(members, 4, [2, 2]));
  const [a, b] = members as [Member, Member];
  const had = [...a.owned].sort().join();
  const revokedFromB = b.revoked.length;
  await a.close();
  const back = new Member(transport, staticGroup, staticTopic, changes, { groupInstanceId: `${prefix}-a`, assignors: [rangeAssignor] });
  await changes.until(() => back.owned.size === 2);
  check([...back.owned].sort().join() === had && b.revoked.length === revokedFromB && b.owned.size === 2, 'a static member restarting gets its partitions back without a rebalance');
  await back.close();
  await b.close();
}

/** Admin over groups: list, describe with assignments, lag, resets (refused while members are active), delete. */
export async function adminGroupStep(transport: Transport, prefix: string, check: Check): Promise<void> {
  const admin = new Admin(transport);
  const topic = `${prefix}-admin`;
  const groupId = `${prefix}-g-admin`;
  await admin.createTopics([{ name: topic, numPartitions: 2 }]);
  await produce(transport, topic, 2, 4, 'a');
  const changes = new Changes();
  const member = new Member(transport, groupId, topic, changes, { enableAutoCommit: false });
  await changes.until(() => member.records.length >= 8);
  await member.consumer.commit();
  check((await admin.listGroups()).some((g) => g.groupId === groupId && g.protocolType === 'consumer'), 'listGroups includes an active group');
  const [described] = await admin.describeGroups([groupId]);
  check(
    described?.groupState === 'Stable' &&
      described.protocol === 'range' &&
      described.members.length === 1 &&
      described.members[0]!.subscribedTopics.join() === topic &&
      described.members[0]!.assignment.map((tp) => tp.partition).sort().join() === '0,1',
    'describeGroups shows the member, its subscription and its assignment',
  );
  await produce(transport, topic, 2, 3, 'b');
  const lag = await admin.groupLag(groupId);
  check(lag.length === 2 && lag.every((l) => l.committedOffset === 4 && l.highWatermark === 7 && l.lag === 3), 'groupLag: committed 4, high watermark 7, lag 3 per partition');
  let refused: unknown;
  await admin.resetGroupOffsets(groupId, topic, { to: 'earliest' }).catch((e: unknown) => (refused = e));
  check(isKafkaError(refused, 'UNKNOWN_MEMBER_ID'), "resetting an active group's offsets fails with the coordinator's error");
  await member.close();
  const sum = async () => (await admin.groupLag(groupId)).map((l) => l.committedOffset).join();
  await admin.resetGroupOffsets(groupId, topic, { to: 'earliest' });
  const atEarliest = await sum();
  await admin.resetGroupOffsets(groupId, topic, { to: 'latest' });
  const atLatest = await sum();
  await admin.resetGroupOffsets(groupId, topic, { to: 'offsets', offsets: [{ topic, partition: 0, offset: 2 }] });
  const explicit = await sum();
  await admin.resetGroupOffsets(groupId, topic, { to: 'timestamp', timestampMs: Date.now() + 60_000 });
  const future = await sum();
  check(atEarliest === '0,0' && atLatest === '7,7' && explicit === '2,7' && future === '7,7', 'resetGroupOffsets of an empty group: earliest, latest, explicit, timestamp');
  await admin.deleteGroups([groupId]);
  check(!(await admin.listGroups()).some((g) => g.groupId === groupId) && (await admin.groupLag(groupId, [topic])).every((l) => l.committedOffset === -1), 'deleteGroups removes the group and its offsets');
}

export const allAssignors: readonly Assignor[] = [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor];
