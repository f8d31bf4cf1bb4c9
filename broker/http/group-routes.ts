import type { Hono } from 'hono';
import { errorName } from '../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { OffsetResetTarget } from '../group/group-types.ts';
import { AclOperation } from '../auth/acl.ts';
import { authorizeGroup, groupListed, offsetShown } from './group-access.ts';
import { authorize } from './http-auth.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';
import { isObject, requestBody, respond } from './route-helpers.ts';

const GROUP_ID = /^[\w.\-]{1,249}$/;

function groupParam(c: { req: { param(name: string): string | undefined } }): string {
  const group = c.req.param('group') ?? '';
  if (!GROUP_ID.test(group)) throw new HttpProblem('badRequest', `group id "${group}" must be 1 to 249 of letters, digits, '.', '_', '-'`);
  return group;
}

function knownTopic(ctx: HttpContext, topic: unknown): string {
  if (typeof topic !== 'string' || topic.startsWith('__') || !ctx.broker.hasTopic(topic)) {
    throw new HttpProblem('notFound', `topic ${JSON.stringify(topic)} does not exist`);
  }
  return topic;
}

function resetTarget(to: unknown): OffsetResetTarget {
  if (to === 'earliest' || to === 'latest') return to;
  if (isObject(to) && Number.isSafeInteger(to['timestamp']) && (to['timestamp'] as number) >= 0) return { timestamp: to['timestamp'] as number };
  if (isObject(to) && isObject(to['offsets'])) {
    const offsets = new Map<number, number>();
    for (const [partition, offset] of Object.entries(to['offsets'])) {
      if (!/^\d+$/.test(partition) || !Number.isSafeInteger(offset) || (offset as number) < 0) {
        throw new HttpProblem('badRequest', `"to.offsets" maps partition numbers to non-negative offsets; "${partition}": ${JSON.stringify(offset)} is not one`);
      }
      offsets.set(Number(partition), offset as number);
    }
    return { offsets };
  }
  throw new HttpProblem('badRequest', '"to" must be "earliest", "latest", {"timestamp": ms} or {"offsets": {"<partition>": offset}}');
}

/**
 * Consumer groups: list, describe with lag, commit, reset for replay. A caller sees and commits
 * offsets of the topics it may read, and resets need `admin` on the topic; with the broker's
 * authorizer, groups are checked as the Kafka APIs check them (group-access.ts): listing shows the
 * groups it may Describe, describing needs Group Describe, committing and resetting Group Read.
 */
export function groupRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  app.get('/v1/groups', (c) => {
    const principal = c.get('principal');
    return respond(c, { groups: ctx.broker.groups.listGroups().filter((g) => groupListed(principal, g.groupId)) });
  });

  app.get('/v1/groups/:group', (c) => {
    const principal = c.get('principal');
    const group = groupParam(c);
    authorizeGroup(principal, group, AclOperation.DESCRIBE);
    const description = ctx.broker.groups.describeGroup(group);
    const shown = (topic: string): boolean => offsetShown(principal, topic);
    const offsets = description.offsets.filter((o) => shown(o.topic));
    // Members' topics are shown as their offsets are: only those the caller may read.
    const members = description.members.map((m) => ({
      ...m,
      subscribedTopics: m.subscribedTopics?.filter(shown) ?? null,
      assignment: m.assignment?.filter((t) => shown(t.topic)) ?? null,
    }));
    return respond(c, { ...description, members, offsets, totalLag: offsets.reduce((sum, o) => sum + o.lag, 0) });
  });

  app.post('/v1/groups/:group/offsets', async (c) => {
    const group = groupParam(c);
    const body = await requestBody(ctx, c);
    if (!isObject(body) || !Array.isArray(body['partitions'])) {
      throw new HttpProblem('badRequest', 'the body must be {"topic", "partitions": [{"partition", "offset", "metadata"?}]}');
    }
    authorizeGroup(c.get('principal'), group, AclOperation.READ);
    authorize(c.get('principal'), 'read', String(body['topic']));
    const topic = knownTopic(ctx, body['topic']);
    const partitions = (body['partitions'] as unknown[]).map((p, i) => {
      if (!isObject(p) || !Number.isInteger(p['partition']) || !Number.isSafeInteger(p['offset']) || (p['offset'] as number) < 0) {
        throw new HttpProblem('badRequest', `partitions[${i}] must be {"partition": integer, "offset": non-negative integer}`);
      }
      const metadata = typeof p['metadata'] === 'string' ? p['metadata'] : null;
      return { partitionIndex: p['partition'] as number, committedOffset: p['offset'] as number, committedMetadata: metadata };
    });
    const [result] = await ctx.broker.groups.commitOffsets({
      groupId: group,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: topic, partitions }],
    });
    const failed = result?.partitions.find((p) => p.errorCode !== 0);
    if (failed !== undefined) {
      const name = errorName(failed.errorCode) ?? 'UNKNOWN_SERVER_ERROR';
      throw new KafkaError(name, `commit for ${topic}-${failed.partitionIndex} in group "${group}" failed`);
    }
    return respond(c, { group, topic, partitions: partitions.map((p) => ({ partition: p.partitionIndex, offset: p.committedOffset })) });
  });

  app.post('/v1/groups/:group/reset', async (c) => {
    const group = groupParam(c);
    const body = await requestBody(ctx, c);
    if (!isObject(body)) throw new HttpProblem('badRequest', 'the body must be {"topic", "to", "dryRun"?}');
    authorizeGroup(c.get('principal'), group, AclOperation.READ);
    authorize(c.get('principal'), 'admin', String(body['topic']));
    const topic = knownTopic(ctx, body['topic']);
    const dryRun = body['dryRun'];
    if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new HttpProblem('badRequest', '"dryRun" must be true or false');
    const partitions = await ctx.broker.groups.resetOffsets(group, topic, resetTarget(body['to']), { dryRun: dryRun === true });
    return respond(c, { group, topic, partitions, ...(dryRun === true ? { dryRun: true } : {}) });
  });
}
