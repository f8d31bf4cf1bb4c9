import type { Hono } from 'hono';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { AclOperation } from '../auth/acl.ts';
import type { GroupDescription } from '../group/group-types.ts';
import { statusTopicName, type StatusTopicRef, type StatusTopology } from '../../streams/runtime/status-record.ts';
import { authorizeGroup, groupListed, offsetShown } from './group-access.ts';
import type { Principal } from './http-auth.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';
import { respond } from './route-helpers.ts';
import { type InstanceStatus, StreamAppStatuses, isStale } from './stream-app-statuses.ts';

const APPLICATION_ID = /^[\w.\-]{1,249}$/;

function describeGroup(ctx: HttpContext, principal: Principal, applicationId: string): (GroupDescription & { offsets: GroupDescription['offsets'] }) | undefined {
  try {
    const description = ctx.broker.groups.describeGroup(applicationId);
    const offsets = description.offsets.filter((o) => offsetShown(principal, o.topic));
    return { ...description, offsets, totalLag: offsets.reduce((sum, o) => sum + o.lag, 0) };
  } catch (error) {
    if (isKafkaError(error, 'GROUP_ID_NOT_FOUND')) return undefined;
    throw error;
  }
}

/** Whether the caller may see an application: its group (Describe, as for `/v1/groups/{id}`) and its status topic (the token's read). */
function visible(principal: Principal, applicationId: string): boolean {
  return groupListed(principal, applicationId) && offsetShown(principal, statusTopicName(applicationId));
}

/** The topology with the topics the caller may not see named `null` (`hidden`); the text goes too when any is hidden. */
function redacted(principal: Principal, topology: StatusTopology): unknown {
  let hidden = false;
  const topic = (ref: StatusTopicRef): { name: string | null; internal: boolean; hidden?: true } => {
    if (offsetShown(principal, ref.name)) return { name: ref.name, internal: ref.internal };
    hidden = true;
    return { name: null, internal: ref.internal, hidden: true };
  };
  const nodes = topology.nodes.map((node) => ({
    ...node,
    ...(node.topics === undefined ? {} : { topics: node.topics.map(topic) }),
    ...(node.topic === undefined || node.topic === null ? {} : { topic: topic(node.topic) }),
  }));
  const stores = topology.stores.map((store) => ({ ...store, changelog: store.changelog === null || offsetShown(principal, store.changelog) ? store.changelog : ((hidden = true), null) }));
  const globalStores = topology.globalStores.map((store) => ({ name: store.name, topic: offsetShown(principal, store.topic) ? store.topic : ((hidden = true), null) }));
  return { nodes, stores, globalStores, text: hidden ? null : topology.text };
}

function instanceJson(instance: InstanceStatus, nowMs: number) {
  const { status } = instance;
  return {
    instanceId: status.instanceId,
    stale: isStale(instance, nowMs),
    state: status.state,
    endpoint: status.endpoint,
    runtime: status.runtime,
    guarantee: status.guarantee,
    startedMs: status.startedMs,
    lastHeartbeatMs: instance.appendedMs,
    intervalMs: status.intervalMs,
    tasks: status.tasks,
    tasksOmitted: status.tasksOmitted,
    metrics: status.metrics,
  };
}

/** Sums over the instances still heartbeating: a stale instance's last figures are history, not load. */
function totals(instances: ReturnType<typeof instanceJson>[]) {
  const live = instances.filter((i) => !i.stale);
  return {
    running: live.length,
    stale: instances.length - live.length,
    commitsPerSecond: Math.round(live.reduce((sum, i) => sum + i.metrics.commitsPerSecond, 0) * 100) / 100,
    recordsDeadLettered: live.reduce((sum, i) => sum + i.metrics.recordsDeadLettered, 0),
    lateRecordsDropped: live.reduce((sum, i) => sum + i.metrics.lateRecordsDropped, 0),
    restoreRemaining: live.reduce((sum, i) => sum + i.tasks.reduce((s, t) => s + t.restoreRemaining, 0), 0),
    lastHeartbeatMs: instances.reduce<number | null>((latest, i) => (latest === null || i.lastHeartbeatMs > latest ? i.lastHeartbeatMs : latest), null),
  };
}

/**
 * Running streams applications, from the statuses their instances publish
 * (stream-app-statuses.ts) joined with their consumer groups' lag: `GET /v1/stream-apps` lists
 * them, `GET /v1/stream-apps/{applicationId}` shows one (instances, tasks, restore progress,
 * commit rate, late drops, dead letters, the topology). A caller sees an application when it may
 * describe its group and read its status topic; topics of the topology it may not see are named
 * null, and the group's offsets are filtered as on `/v1/groups/{id}`. An instance whose latest
 * status is older than three of its publish intervals (by the broker's clock) is `stale`.
 */
export function streamAppsRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  const statuses = new StreamAppStatuses(ctx.broker);

  app.get('/v1/stream-apps', async (c) => {
    const principal = c.get('principal');
    const nowMs = ctx.options.nowMs();
    const applications = [];
    for (const applicationId of statuses.applicationIds()) {
      if (!visible(principal, applicationId)) continue;
      const instances = (await statuses.instances(applicationId)).map((i) => instanceJson(i, nowMs));
      const group = describeGroup(ctx, principal, applicationId);
      applications.push({
        applicationId,
        states: [...new Set(instances.filter((i) => !i.stale).map((i) => i.state))].sort(),
        groupState: group?.state ?? null,
        totalLag: group?.totalLag ?? null,
        ...totals(instances),
      });
    }
    return respond(c, { applications });
  });

  app.get('/v1/stream-apps/:applicationId', async (c) => {
    const principal = c.get('principal');
    const applicationId = c.req.param('applicationId') ?? '';
    if (!APPLICATION_ID.test(applicationId)) throw new HttpProblem('badRequest', `application id "${applicationId}" must be 1 to 249 of letters, digits, '.', '_', '-'`);
    authorizeGroup(principal, applicationId, AclOperation.DESCRIBE);
    const statusTopic = statusTopicName(applicationId);
    if (!offsetShown(principal, statusTopic)) throw new HttpProblem('forbidden', `"${principal.name}" may not read topic "${statusTopic}", where the application publishes its status`);
    const nowMs = ctx.options.nowMs();
    const found = await statuses.instances(applicationId);
    const group = describeGroup(ctx, principal, applicationId);
    if (found.length === 0 && !ctx.broker.hasTopic(statusTopic)) {
      throw new HttpProblem('notFound', `no streams application "${applicationId}" has published its status (topic ${statusTopic} does not exist)`);
    }
    const instances = found.map((i) => instanceJson(i, nowMs)).sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
    // The topology of the freshest status: instances of one application run one topology, except during a rolling upgrade.
    const freshest = [...found].sort((a, b) => b.appendedMs - a.appendedMs).find((i) => i.status.topology !== null);
    return respond(c, {
      applicationId,
      statusTopic,
      nowMs,
      group: group === undefined ? null : { state: group.state, generationId: group.generationId, members: group.members.length, offsets: group.offsets, totalLag: group.totalLag },
      ...totals(instances),
      deadLetterTopic: found[0]?.status.deadLetterTopic ?? `${applicationId}-dlq`,
      instances,
      topology: freshest === undefined ? null : redacted(principal, freshest.status.topology!),
    });
  });
}
