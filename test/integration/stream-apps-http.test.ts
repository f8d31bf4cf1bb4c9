import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../broker/auth/acl.ts';
import { EmbeddedTransport } from '../../broker/embedded.ts';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { longSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import { StreamsApp, StreamsBuilder } from '../../streams/mod.ts';
import { StatusPublisher } from '../../streams/runtime/status-publisher.ts';
import { eventually } from '../helpers/eventually.ts';
import { openTestApp, problemOf, type TestApp } from '../unit/broker/http/http-test-support.ts';

const tokens = [
  { name: 'ops', token: 'ops-token', acls: [{ topics: '*', operations: ['read' as const, 'admin' as const] }] },
  { name: 'reader', token: 'reader-token', acls: [{ topics: 'public-*', operations: ['read' as const] }] },
  { name: 'watcher', token: 'watcher-token', acls: [{ topics: '*', operations: ['read' as const] }] },
];
const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

let t: TestApp | undefined;
let app: StreamsApp | undefined;
let transport: EmbeddedTransport | undefined;
afterEach(async () => {
  await app?.close();
  await transport?.close();
  await t?.close();
  app = transport = t = undefined;
});

/** A word count publishing its status every 200 ms, its input partly processed. */
async function startWordCount(test: TestApp): Promise<StreamsApp> {
  transport = new EmbeddedTransport(test.broker);
  await new Admin(transport).createTopics([{ name: 'wc-lines', numPartitions: 2 }, { name: 'wc-counts', numPartitions: 2 }]);
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  await producer.sendBatch(Array.from({ length: 20 }, (_, i) => ({ topic: 'wc-lines', key: `k${i}`, value: `to be or not ${i % 3}` })));
  await producer.close();
  const builder = new StreamsBuilder();
  builder
    .stream('wc-lines', { key: stringSerde, value: stringSerde })
    .flatMapValues((line) => line.split(' '))
    .groupBy((_k, word) => word, { key: stringSerde, value: stringSerde })
    .count({ name: 'wc-store' })
    .toStream()
    .to('wc-counts', { key: stringSerde, value: longSerde });
  const started = new StreamsApp(builder.build(), { applicationId: 'wc', transport, stateDir: join(test.dataDir, 'state'), commitIntervalMs: 50, statusIntervalMs: 200 });
  await started.start();
  return started;
}

describe('GET /v1/stream-apps', () => {
  it('lists a running app with its lag and shows its topology, tasks and metrics; a stopped heartbeat reads as stale, a clean close removes the instance', async () => {
    let skewMs = 0;
    t = await openTestApp({ tokens, nowMs: () => Date.now() + skewMs });
    const test = t;
    app = await startWordCount(test);
    const listed = await eventually(async () => {
      const body = await (await test.request('/v1/stream-apps', as('ops-token'))).json();
      const found = body.applications.find((a: { applicationId: string }) => a.applicationId === 'wc');
      return found?.running === 1 && found.states.includes('RUNNING') ? found : undefined;
    }, 'the running word count');
    expect(listed).toMatchObject({ applicationId: 'wc', stale: 0, groupState: 'Stable', recordsDeadLettered: 0, lateRecordsDropped: 0 });

    expect(typeof listed.totalLag).toBe('number');
    // The input's lag as the group's (the repartition topics' lag counts their transaction markers, as Kafka's does).
    const detail = await eventually(async () => {
      const body = await (await test.request('/v1/stream-apps/wc', as('ops-token'))).json();
      const input = body.group.offsets.filter((o: { topic: string }) => o.topic === 'wc-lines');
      return input.length === 2 && input.every((o: { lag: number }) => o.lag === 0) && body.instances[0]?.metrics.recordsIn >= 20 ? body : undefined;
    }, 'the input processed and committed');
    expect(detail.statusTopic).toBe('wc-streams-status');
    expect(detail.instances).toHaveLength(1);
    expect(detail.instances[0]).toMatchObject({ stale: false, guarantee: 'exactly_once', intervalMs: 200 });
    expect(detail.instances[0].tasks.map((task: { taskId: string; state: string }) => `${task.taskId}:${task.state}`).sort()).toEqual(['0_0:running', '0_1:running', '1_0:running', '1_1:running']);
    const nodes = detail.topology.nodes as { name: string; kind: string; topics?: { name: string }[]; topic?: { name: string; internal: boolean }; stores?: string[] }[];
    expect(nodes.find((n) => n.kind === 'source' && n.topics?.[0]?.name === 'wc-lines')).toBeDefined();
    expect(nodes.find((n) => n.kind === 'sink' && n.topic?.name === 'wc-counts')).toBeDefined();
    expect(nodes.find((n) => n.kind === 'sink' && n.topic?.internal === true)?.topic?.name).toMatch(/^wc-.*-repartition$/);
    expect(nodes.find((n) => n.kind === 'processor' && n.stores?.includes('wc-store'))).toBeDefined();
    expect(detail.topology.stores).toEqual([{ name: 'wc-store', kind: 'keyValue', subtopology: 1, changelog: 'wc-wc-store-changelog' }]);
    expect(detail.topology.text).toContain('Sub-topology: 1');

    // The broker's clock moves past three publish intervals since the last status: the instance is stale.
    skewMs = 60_000;
    const stale = await (await test.request('/v1/stream-apps/wc', as('ops-token'))).json();
    expect(stale).toMatchObject({ running: 0, stale: 1, commitsPerSecond: 0 });
    expect(stale.instances[0].stale).toBe(true);
    skewMs = 0;

    await app.close();
    app = undefined;
    await eventually(async () => ((await (await test.request('/v1/stream-apps/wc', as('ops-token'))).json()).instances.length === 0 ? true : undefined), 'the closed instance to be gone');

    expect((await problemOf(await test.request('/v1/stream-apps/w%20c', as('ops-token')))).status).toBe(400);
    expect((await problemOf(await test.request('/v1/stream-apps/nothing', as('ops-token')))).status).toBe(404);
  });

  it("shows a token nothing of an app it may not see: the token's topics, then the broker's group and topic ACLs", async () => {
    t = await openTestApp({ tokens }, undefined, { authorizer: { superUsers: ['User:ANONYMOUS', 'User:ops'] } });
    const test = t;
    app = await startWordCount(test);
    await eventually(async () => {
      const listed = (await (await test.request('/v1/stream-apps', as('ops-token'))).json()).applications[0];
      return listed?.states.includes('RUNNING') && listed.groupState === 'Stable' ? true : undefined;
    }, 'the app running for ops');

    // The reader token may not read the status topic.
    expect(await (await test.request('/v1/stream-apps', as('reader-token'))).json()).toEqual({ applications: [] });
    expect((await problemOf(await test.request('/v1/stream-apps/wc', as('reader-token')))).status).toBe(403);

    // The watcher token reads every topic, but the broker grants it nothing on the group.
    expect(await (await test.request('/v1/stream-apps', as('watcher-token'))).json()).toEqual({ applications: [] });
    const denied = (await problemOf(await test.request('/v1/stream-apps/wc', as('watcher-token')))) as { status: number; kafkaError?: string; detail: string };
    expect([denied.status, denied.kafkaError]).toEqual([403, 'GROUP_AUTHORIZATION_FAILED']);
    expect(JSON.stringify(denied)).not.toContain('wc-lines');

    const allow = (resourceType: 2 | 3, resourceName: string) => ({
      resourceType,
      resourceName,
      patternType: PatternType.LITERAL,
      principal: 'User:watcher',
      host: '*',
      operation: AclOperation.DESCRIBE,
      permissionType: AclPermission.ALLOW,
    });
    await test.broker.authorizer!.createAcls([allow(ResourceType.GROUP, 'wc'), allow(ResourceType.TOPIC, 'wc-streams-status'), allow(ResourceType.TOPIC, 'wc-counts')]);
    const seen = await (await test.request('/v1/stream-apps/wc', as('watcher-token'))).json();
    // Topics it may not describe are hidden: the input, the repartition topic, the changelog; the text naming them goes too.
    const named = (seen.topology.nodes as { topics?: { name: string | null }[]; topic?: { name: string | null } }[]).flatMap((n) => [...(n.topics ?? []), ...(n.topic === undefined ? [] : [n.topic])]).map((ref) => ref.name);
    expect(named.filter((n) => n !== null)).toEqual(['wc-counts']);
    expect(named.filter((n) => n === null)).toHaveLength(3);
    expect(seen.topology.stores[0].changelog).toBeNull();
    expect(seen.topology.text).toBeNull();
    expect(seen.group.offsets).toEqual([]);
    expect(JSON.stringify(seen)).not.toContain('wc-lines');
  });

  it('a cluster that refuses the status records disables the publisher, not the application', async () => {
    t = await openTestApp();
    // A status topic someone created with a record size limit no status fits in: every write is refused.
    await t.broker.createTopic('refused-streams-status', { partitions: 1, config: { 'max.message.bytes': '64' } });
    transport = new EmbeddedTransport(t.broker);
    const publisher = new StatusPublisher({
      transport,
      applicationId: 'refused',
      instanceId: 'i-1',
      endpoint: undefined,
      guarantee: 'exactly_once',
      deadLetterTopic: 'refused-dlq',
      topology: { nodes: [], stores: [], globalStores: [], text: '' },
      intervalMs: 100,
      snapshot: () => ({ state: 'RUNNING', tasks: [], metrics: { recordsIn: 0, recordsOut: 0, recordsDeadLettered: 0, recordsSkipped: 0, commits: 0, commitsFailed: 0, lastCommitLatencyMs: 0, maxCommitLatencyMs: 0, rebalances: 0, tasks: [], commitLatencyTotalMs: 0 } }),
    });
    await publisher.start();
    await eventually(() => (publisher.state.disabledReason !== undefined ? true : undefined), 'the publisher to give up');
    publisher.requestPublish();
    await publisher.close('tombstone');
    expect(publisher.state).toMatchObject({ published: 0, failures: 1, disabledReason: expect.stringMatching(/^cannot write refused-streams-status: /) });
    expect(t.broker.describeTopic('refused-streams-status').partitions[0]!.highWatermark).toBe(0);
  });
});
