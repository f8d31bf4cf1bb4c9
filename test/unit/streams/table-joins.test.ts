import { describe, expect, expectTypeOf, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import { type KStream, type KTable, nullable, StreamsBuilder } from '../../../streams/mod.ts';
import { testDriver } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };
const nullableText = { key: nullable(stringSerde), value: nullable(stringSerde) };

type Driver = ReturnType<typeof testDriver>;

function records(driver: Driver, topic: string): [string | null, string | null, number][] {
  return driver
    .outputTopic(topic, nullableText)
    .readRecords()
    .map((r) => [r.key, r.value, r.timestamp]);
}

describe('KStream-KTable join', () => {
  it('joins each click with the user’s current name; inner drops clicks without a user, left joins them with null; table updates emit nothing', async () => {
    const builder = new StreamsBuilder();
    const users = builder.table('users', { ...text, name: 'users' });
    const clicks = builder.stream('clicks', { key: nullable(stringSerde), value: nullable(stringSerde) });
    clicks.join(users, (page, name) => `${page} by ${name}`, { value: stringSerde }).to('inner');
    clicks.leftJoin(users, (page, name) => `${page} by ${name ?? 'nobody'}`, { value: stringSerde }).to('left');
    const driver = testDriver(builder.build());
    const userIn = driver.inputTopic('users', nullableText);
    const clickIn = driver.inputTopic('clicks', nullableText);
    await clickIn.pipe('a', '/home', { timestamp: 1 });
    await userIn.pipe('a', 'Ann', { timestamp: 2 });
    await clickIn.pipe('a', '/cart', { timestamp: 5 });
    await userIn.pipe('a', 'Anna', { timestamp: 9 });
    await clickIn.pipe('a', '/pay', { timestamp: 7 });
    await userIn.pipe('a', null, { timestamp: 10 });
    await clickIn.pipe('a', '/bye', { timestamp: 11 });
    await clickIn.pipe('a', null, { timestamp: 12 });
    await clickIn.pipe(null, '/anon', { timestamp: 13 });
    expect(records(driver, 'inner')).toEqual([
      ['a', '/cart by Ann', 5],
      ['a', '/pay by Anna', 7],
    ]);
    expect(records(driver, 'left')).toEqual([
      ['a', '/home by nobody', 1],
      ['a', '/cart by Ann', 5],
      ['a', '/pay by Anna', 7],
      ['a', '/bye by nobody', 11],
      [null, '/anon by nobody', 13],
    ]);
  });

  it('reads a filtered, mapped table through its value getter, without a store of its own', async () => {
    const builder = new StreamsBuilder();
    const users = builder.table('users', { key: stringSerde, value: jsonSerde<{ name: string; active: boolean }>(), name: 'users' });
    const active = users.filter((_id, user) => user.active).mapValues((user) => user.name.toUpperCase());
    builder
      .stream('clicks', text)
      .leftJoin(active, (page, name) => `${page}:${name ?? '-'}`, { value: stringSerde })
      .to('out');
    const topology = builder.build();
    expect(topology.stores.size).toBe(1);
    expect(topology.subtopologies).toHaveLength(1);
    const driver = testDriver(topology);
    const userIn = driver.inputTopic('users', { key: stringSerde, value: nullable(jsonSerde<{ name: string; active: boolean }>()) });
    const clickIn = driver.inputTopic('clicks', text);
    await userIn.pipe('a', { name: 'ann', active: true }, { timestamp: 1 });
    await userIn.pipe('b', { name: 'bob', active: false }, { timestamp: 1 });
    await clickIn.pipe('a', 'x', { timestamp: 2 });
    await clickIn.pipe('b', 'y', { timestamp: 3 });
    await userIn.pipe('a', { name: 'ann', active: false }, { timestamp: 4 });
    await clickIn.pipe('a', 'z', { timestamp: 5 });
    expect(records(driver, 'out')).toEqual([
      ['a', 'x:ANN', 2],
      ['b', 'y:-', 3],
      ['a', 'z:-', 5],
    ]);
  });

  it('repartitions a stream whose key changed before joining (`<name>-repartition`), once for two joins; an asynchronous joiner is awaited', async () => {
    const builder = new StreamsBuilder();
    const users = builder.table('users', { ...text, name: 'users' });
    const byUser = builder.stream('orders', text).selectKey((_orderId, userId) => userId, { key: stringSerde });
    byUser.join(users, async (userId, name) => `${userId}=${name}`, { value: stringSerde }).to('inner');
    byUser.leftJoin(users, (userId, name) => `${userId}=${name}`, { value: stringSerde }).to('left');
    builder
      .stream('refunds', text)
      .selectKey((_refundId, userId) => userId, { key: stringSerde })
      .join(users, (userId) => userId, { name: 'refunds-by-user', value: stringSerde })
      .to('refunded');
    const topology = builder.build();
    expect([...topology.repartitionTopics.keys()]).toEqual([`${byUser.nodeName}-repartition`, 'refunds-by-user-repartition']);
    expect(topology.subtopologies).toHaveLength(3);
    const driver = testDriver(topology, { applicationId: 'app' });
    await driver.inputTopic('users', text).pipe('u1', 'Ann', { timestamp: 1 });
    await driver.inputTopic('orders', text).pipe('o1', 'u1', { timestamp: 2 });
    await driver.inputTopic('orders', text).pipe('o2', 'u2', { timestamp: 3 });
    expect(records(driver, 'inner')).toEqual([['u1', 'u1=Ann', 2]]);
    expect(records(driver, 'left')).toEqual([
      ['u1', 'u1=Ann', 2],
      ['u2', 'u2=null', 3],
    ]);
    await driver.inputTopic('refunds', text).pipe('r1', 'u1', { timestamp: 4 });
    expect(records(driver, 'refunded')).toEqual([['u1', 'u1', 4]]);
  });
});

describe('KTable-KTable join', () => {
  function tableJoins() {
    const builder = new StreamsBuilder();
    const left = builder.table('left', { ...text, name: 'left-store' });
    const right = builder.table('right', { ...text, name: 'right-store' });
    const joiner = (l: string | null, r: string | null) => `${l}+${r}`;
    left.join(right, joiner, { value: stringSerde }).toStream().to('inner');
    left.leftJoin(right, joiner, { value: stringSerde }).toStream().to('left-join');
    left.outerJoin(right, joiner, { value: stringSerde }).toStream().to('outer');
    const driver = testDriver(builder.build());
    return { driver, leftIn: driver.inputTopic('left', nullableText), rightIn: driver.inputTopic('right', nullableText) };
  }

  it('updates from both sides, deletes when a row disappears, timestamps the larger of both sides', async () => {
    const { driver, leftIn, rightIn } = tableJoins();
    await leftIn.pipe('k', 'L1', { timestamp: 10 });
    await rightIn.pipe('k', 'R1', { timestamp: 5 });
    await leftIn.pipe('k', 'L2', { timestamp: 3 });
    await rightIn.pipe('k', null, { timestamp: 20 });
    await leftIn.pipe('k', null, { timestamp: 21 });
    await rightIn.pipe('k', 'R2', { timestamp: 22 });
    await rightIn.pipe('k', null, { timestamp: 23 });
    await leftIn.pipe('j', null, { timestamp: 24 });
    expect(records(driver, 'inner')).toEqual([
      ['k', 'L1+R1', 10],
      ['k', 'L2+R1', 5],
      ['k', null, 20],
    ]);
    expect(records(driver, 'left-join')).toEqual([
      ['k', 'L1+null', 10],
      ['k', 'L1+R1', 10],
      ['k', 'L2+R1', 5],
      ['k', 'L2+null', 20],
      ['k', null, 21],
    ]);
    expect(records(driver, 'outer')).toEqual([
      ['k', 'L1+null', 10],
      ['k', 'L1+R1', 10],
      ['k', 'L2+R1', 5],
      ['k', 'L2+null', 20],
      ['k', null, 21],
      ['k', 'null+R2', 22],
      ['k', null, 23],
    ]);
  });

  it('a filter below a join gets old rows for its deletes; a join result is itself joinable through its value getter', async () => {
    const builder = new StreamsBuilder();
    const prices = builder.table('prices', { key: stringSerde, value: jsonSerde<number>(), name: 'prices' });
    const stock = builder.table('stock', { key: stringSerde, value: jsonSerde<number>(), name: 'stock' });
    const value = prices.join(stock, (price, count) => price * count);
    value
      .filter((_item, total) => total >= 100)
      .toStream()
      .to('big', { value: nullable(jsonSerde<number>()) });
    builder
      .stream('audits', text)
      .join(value, (who, total) => `${who} sees ${total}`, { value: stringSerde })
      .to('audited');
    const driver = testDriver(builder.build());
    const pricesIn = driver.inputTopic('prices', { key: stringSerde, value: nullable(jsonSerde<number>()) });
    const stockIn = driver.inputTopic('stock', { key: stringSerde, value: nullable(jsonSerde<number>()) });
    await pricesIn.pipe('pen', 10, { timestamp: 1 });
    await stockIn.pipe('pen', 20, { timestamp: 2 });
    await stockIn.pipe('pen', 5, { timestamp: 3 });
    await driver.inputTopic('audits', text).pipe('pen', 'ann', { timestamp: 4 });
    await stockIn.pipe('pen', null, { timestamp: 5 });
    await driver.inputTopic('audits', text).pipe('pen', 'bob', { timestamp: 6 });
    expect(driver.outputTopic('big', { key: stringSerde, value: nullable(jsonSerde<number>()) }).readKeyValues()).toEqual([
      ['pen', 200],
      ['pen', null],
    ]);
    expect(records(driver, 'audited')).toEqual([['pen', 'ann sees 50', 4]]);
  });

  it('puts both tables and the stores they read in one sub-topology', () => {
    const builder = new StreamsBuilder();
    const left = builder.table('left', { ...text, name: 'l' });
    const right = builder.table('right', { ...text, name: 'r' }).mapValues((v) => v.length);
    left.leftJoin(right, (l, r) => `${l}${r}`, { name: 'lr' }).toStream().to('out', { value: nullable(stringSerde) });
    const topology = builder.build();
    expect(topology.subtopologies).toHaveLength(1);
    expect(topology.copartitionGroups).toEqual([{ subtopology: 0, topics: [{ name: 'left', internal: false }, { name: 'right', internal: false }] }]);
    expect([...topology.nodes.keys()]).toContain('lr-join-this');
  });
});

describe('join types', () => {
  it('infers joined types, null only where the join kind allows an absent side', () => {
    const builder = new StreamsBuilder();
    const users = builder.table('users', { key: stringSerde, value: jsonSerde<{ name: string; team: string }>() });
    const teams = builder.table('teams', { key: stringSerde, value: jsonSerde<{ title: string }>() });
    const clicks = builder.stream('clicks', { key: stringSerde, value: jsonSerde<{ page: string }>() });
    expectTypeOf(clicks.join(users, (click, user) => `${click.page}${user.name}`)).toEqualTypeOf<KStream<string, string>>();
    expectTypeOf(clicks.leftJoin(users, (_click, user) => user?.name.length ?? 0)).toEqualTypeOf<KStream<string, number>>();
    expectTypeOf(users.outerJoin(users, (a, b) => [a?.name, b?.name])).toEqualTypeOf<KTable<string, (string | undefined)[], null>>();
    const byTeam = users.join(teams, (user) => user.team, (user, team) => ({ user: user.name, title: team.title }), { value: jsonSerde<{ user: string; title: string }>() });
    expectTypeOf(byTeam).toEqualTypeOf<KTable<string, { user: string; title: string }, null>>();
    // @ts-expect-error: a left join's foreign value may be null
    users.leftJoin(teams, (user) => user.team, (_user, team) => team.title, { value: stringSerde });
    // @ts-expect-error: a foreign-key join needs the result's value serde for its store
    expect(() => users.join(teams, (user) => user.team, (user) => user.name)).toThrow(/needs \{ value \} options/);
    // @ts-expect-error: a stream joins a table with its own key type
    builder.stream('numbers', { key: jsonSerde<number>(), value: stringSerde }).join(users, (v) => v, { name: 'numbers-users' });
    expect(byTeam.queryableStoreName).toMatch(/^KTABLE-FK-JOIN-OUTPUT-STATE-STORE-/);
  });
});
