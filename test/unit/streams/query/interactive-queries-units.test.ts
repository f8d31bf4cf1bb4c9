import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../../sdk/serde/basic-serdes.ts';
import { bytesSerde } from '../../../../sdk/serde/basic-serdes.ts';
import { HttpProblem } from '../../../../broker/http/problem.ts';
import { JoinWindows, StreamsApp, StreamsBuilder, Suppressed, TimeWindows, BufferConfig, createAppServer } from '../../../../streams/mod.ts';
import { StreamsAssignor } from '../../../../streams/runtime/streams-assignor.ts';
import { parseHostInfo } from '../../../../streams/query/host-info.ts';
import { isQueryableStore } from '../../../../streams/query/interactive-queries.ts';
import { keyFromText, entryJson } from '../../../../streams/server/text-codec.ts';
import type { TaskId } from '../../../../streams/topology/processor.ts';
import type { Transport } from '../../../../sdk/transport/transport.ts';

function member(memberId: string, instanceId: string, endpoint: string | null, ownedTasks: TaskId[] = []) {
  const assignor = new StreamsAssignor(() => [], { instanceId, endpoint, ownedTasks: () => ownedTasks });
  return { memberId, groupInstanceId: null, topics: ['in'], ownedPartitions: [], generationId: -1, userData: assignor.subscriptionUserData() };
}

describe('the streams assignor carries every endpoint and its tasks', () => {
  const subtopologies = () => [{ id: 0, sourceTopics: ['in'] }, { id: 1, sourceTopics: ['other'] }];

  it('gives every member the tasks of each member with an endpoint (assignment userData v2)', () => {
    const leader = new StreamsAssignor(subtopologies, { instanceId: 'a', endpoint: 'h1:1', ownedTasks: () => [] });
    const members = [member('m1', 'a', 'h1:1'), member('m2', 'b', '[::1]:2'), member('m3', 'c', null)];
    const assignments = leader.assign(members, new Map([['in', 3], ['other', 3]]));
    const views = [...assignments.values()].map((assignment) => {
      const follower = new StreamsAssignor(subtopologies, { instanceId: 'x', endpoint: null, ownedTasks: () => [] });
      follower.onAssignment(assignment);
      return { tasks: follower.assignedTasks, hosts: follower.hostTasks };
    });
    const [first, second, third] = views;
    expect([...first!.hosts.keys()]).toEqual(['h1:1', '[::1]:2']);
    for (const view of views) expect(view.hosts).toEqual(first!.hosts);
    expect(first!.hosts.get('h1:1')).toEqual({ active: first!.tasks, standby: [] });
    expect(first!.hosts.get('[::1]:2')).toEqual({ active: second!.tasks, standby: [] });
    expect(first!.tasks.length + second!.tasks.length + third!.tasks.length).toBe(6);
  });

  it('reads a version 1 assignment (no hosts) as before', () => {
    const follower = new StreamsAssignor(subtopologies, { instanceId: 'x', endpoint: null, ownedTasks: () => [] });
    follower.onAssignment({ partitions: [], userData: encode([1, [[0, 2]]]) });
    expect(follower.assignedTasks).toEqual([{ subtopology: 0, partition: 2 }]);
    expect(follower.hostTasks.size).toBe(0);
  });
});

describe('interactive query inputs', () => {
  it('parses host:port endpoints and refuses malformed ones', () => {
    expect(parseHostInfo('localhost:8080')).toEqual({ host: 'localhost', port: 8080, endpoint: 'localhost:8080' });
    expect(parseHostInfo('[::1]:9')).toEqual({ host: '::1', port: 9, endpoint: '[::1]:9' });
    for (const bad of ['localhost', 'h:0', 'h:70000', ':80', 'http://h:80', '::1:80']) expect(() => parseHostInfo(bad), bad).toThrow(/applicationServer must be host:port/);
  });

  it('refuses a malformed applicationServer in the config', () => {
    expect(() => new StreamsApp(new StreamsBuilder().build(), { applicationId: 'x', transport: {} as Transport, applicationServer: 'nope' })).toThrow(/applicationServer must be host:port/);
  });

  it('makes stores queryable only when the topology names them', () => {
    const builder = new StreamsBuilder();
    const left = builder.stream('l', { key: stringSerde, value: stringSerde });
    left.groupByKey().count({ name: 'named' });
    left.groupByKey().count();
    left.groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count({ name: 'windowed' }).suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded(), { name: 'sup' }));
    left.join(builder.stream('r', { key: stringSerde, value: stringSerde }), (a, b) => a + b, JoinWindows.ofTimeDifferenceWithNoGrace(10), { storeName: 'j' });
    const stores = builder.build().subtopologies.flatMap((s) => s.stores);
    expect(stores.filter(isQueryableStore).map((s) => s.name).sort()).toEqual(['named', 'windowed']);
    expect(stores.length).toBe(6);
  });

  it('reads keys from URL text with the store key serde', () => {
    expect(keyFromText(stringSerde as never, '{"a":1}', 's')).toBe('{"a":1}');
    expect(keyFromText(jsonSerde() as never, '{"a":1}', 's')).toEqual({ a: 1 });
    expect(keyFromText(longSerde as never, '-42', 's')).toBe(-42);
    expect(() => keyFromText(jsonSerde() as never, '{a', 's')).toThrow(HttpProblem);
    expect(() => keyFromText(longSerde as never, '4.2', 's')).toThrow(/must be an integer/);
    expect(() => keyFromText(bytesSerde as never, 'x', 's')).toThrow(/reads no text/);
    expect(entryJson({ key: new Uint8Array([1, 2]), value: 'v' })).toEqual({ key: 'AQI=', keyEncoding: 'base64', value: 'v' });
  });

  it('describes every route of the app server in its OpenAPI document, and nothing else', async () => {
    const app = new StreamsApp(new StreamsBuilder().build(), { applicationId: 'x', transport: {} as Transport });
    const http = createAppServer(app);
    const document = (await (await http.fetch(new Request('http://x/openapi.json'))).json()) as { openapi: string; paths: Record<string, object> };
    expect(document.openapi).toBe('3.1.0');
    const registered = new Set(http.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`));
    const documented = new Set(Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect([...documented].sort()).toEqual([...registered].sort());
  });
});
