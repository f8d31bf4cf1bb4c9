import type { Hono } from 'hono';
import { errorName } from '../../sdk/protocol/error-codes.ts';
import { clientHost } from '../group/client-host.ts';
import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { AclOperation } from '../auth/acl.ts';
import { isInternalTopic } from '../topic/topic-name.ts';
import { deadLetterTopicOf } from '../share/share-config.ts';
import { AcknowledgeType } from '../../sdk/protocol/acknowledge-type.ts';
import type { AcknowledgementBatch } from '../share/share-partition.ts';
import { responseFormat } from './body-codec.ts';
import { authorizeGroup } from './group-access.ts';
import { authorize, type Principal } from './http-auth.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';
import { recordForResponse } from './record-codec.ts';
import { isObject, requestBody, respond, type HttpRouteContext } from './route-helpers.ts';
import { type HttpShareMember, HttpShareMembers } from './share-members.ts';

const GROUP_ID = /^[\w.\-]{1,249}$/;
const DEFAULT_FETCH_RECORDS = 100;
const MAX_FETCH_WAIT_MS = 30_000;
/** HTTP members at once over all share groups; each is also a share session (`maxShareSessions`). */
const MAX_HTTP_SHARE_MEMBERS = 1000;
const MAX_ACKNOWLEDGEMENTS = 10_000;

const ACK_TYPES: Readonly<Record<string, number>> = { accept: AcknowledgeType.ACCEPT, release: AcknowledgeType.RELEASE, reject: AcknowledgeType.REJECT };

function groupParam(c: HttpRouteContext): string {
  const group = c.req.param('group') ?? '';
  if (!GROUP_ID.test(group)) throw new HttpProblem('badRequest', `share group id "${group}" must be 1 to 249 of letters, digits, '.', '_', '-'`);
  return group;
}

/** Topic Read for each topic (token and broker ACLs), then existence, as topicParam orders it. */
function readableTopic(ctx: HttpContext, principal: Principal, topic: unknown, path: string): string {
  if (typeof topic !== 'string' || topic === '') throw new HttpProblem('badRequest', `${path} must be a topic name`);
  authorize(principal, 'read', topic);
  if (isInternalTopic(topic) || !ctx.broker.hasTopic(topic)) throw new HttpProblem('notFound', `topic "${topic}" does not exist`);
  return topic;
}

function optionalInteger(body: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new HttpProblem('badRequest', `"${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/**
 * Share groups (KIP-932) for clients without a Kafka library: create a member (it joins the share
 * group), fetch records acquired under a lock, acknowledge each (accept, release, reject), leave.
 * Checked as the Kafka share APIs check them: Group Read on the group for every call, Topic Read
 * on each topic a member subscribes to, fetches from or acknowledges; describing needs Group
 * Describe. Member lifetime: see HttpShareMembers.
 */
export function shareRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  const members = new HttpShareMembers(ctx.broker.shareGroups, MAX_HTTP_SHARE_MEMBERS, ctx.options.nowMs);

  const memberOf = (c: HttpRouteContext, group: string): HttpShareMember => {
    const principal = c.get('principal');
    authorizeGroup(principal, group, AclOperation.READ);
    const member = members.get(group, c.req.param('member') ?? '', principal.name);
    for (const topic of member.topics) authorize(principal, 'read', topic);
    return member;
  };

  app.get('/v1/share-groups/:group', (c) => {
    const group = groupParam(c);
    authorizeGroup(c.get('principal'), group, AclOperation.DESCRIBE);
    const description = ctx.broker.shareGroups.describe(group);
    if (description.groupState === 'Dead') throw new HttpProblem('notFound', description.errorMessage ?? `share group "${group}" does not exist`);
    const config = ctx.broker.shareGroups.configOf(group);
    return respond(c, {
      groupId: group,
      groupState: description.groupState,
      groupEpoch: description.groupEpoch,
      members: description.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, subscribedTopicNames: m.subscribedTopicNames, assignment: m.assignment.map((a) => ({ topic: a.topicName, partitions: a.partitions })) })),
      config: { recordLockDurationMs: config.recordLockDurationMs, deliveryCountLimit: config.deliveryCountLimit, sessionTimeoutMs: config.sessionTimeoutMs, deadLetterTopic: deadLetterTopicOf(group, config), retryBackoffMs: config.retryBackoffMs },
    });
  });

  app.post('/v1/share-groups/:group/members', async (c) => {
    const group = groupParam(c);
    const body = await requestBody(ctx, c);
    const principal = c.get('principal');
    authorizeGroup(principal, group, AclOperation.READ);
    if (!isObject(body) || !Array.isArray(body['topics']) || body['topics'].length === 0) {
      throw new HttpProblem('badRequest', 'the body must be {"topics": ["<topic>", ...]} naming at least one topic');
    }
    const topics = [...new Set((body['topics'] as unknown[]).map((t, i) => readableTopic(ctx, principal, t, `topics[${i}]`)))];
    const member = await members.join(group, principal.name, topics, clientHost(`${c.env?.remoteAddress ?? ''}:0`));
    const config = ctx.broker.shareGroups.configOf(group);
    return respond(c, { groupId: group, memberId: member.memberId, topics, sessionTimeoutMs: config.sessionTimeoutMs, recordLockDurationMs: config.recordLockDurationMs }, 201, {
      location: `/v1/share-groups/${group}/members/${member.memberId}`,
    });
  });

  app.post('/v1/share-groups/:group/members/:member/heartbeat', async (c) => {
    const group = groupParam(c);
    const member = memberOf(c, group);
    await members.heartbeat(member);
    return respond(c, { groupId: group, memberId: member.memberId, assignment: assignmentOf(ctx, member), sessionTimeoutMs: ctx.broker.shareGroups.configOf(group).sessionTimeoutMs });
  });

  app.delete('/v1/share-groups/:group/members/:member', async (c) => {
    const group = groupParam(c);
    await members.leave(memberOf(c, group));
    return c.body(null, 204);
  });

  app.post('/v1/share-groups/:group/members/:member/fetch', async (c) => {
    const group = groupParam(c);
    const body = await requestBody(ctx, c);
    if (!isObject(body)) throw new HttpProblem('badRequest', 'the body must be an object: {"maxRecords"?, "maxWaitMs"?}');
    const maxRecords = optionalInteger(body, 'maxRecords', Math.min(DEFAULT_FETCH_RECORDS, ctx.options.maxReadRecords), 1, ctx.options.maxReadRecords);
    const sessionTimeoutMs = ctx.broker.shareGroups.configOf(group).sessionTimeoutMs;
    // A long poll stays well inside the session timeout, so a polling member never expires while it waits.
    const maxWaitMs = optionalInteger(body, 'maxWaitMs', 0, 0, Math.min(MAX_FETCH_WAIT_MS, Math.floor(sessionTimeoutMs / 2)));
    const member = memberOf(c, group);
    const answer = await members.fetch(member, maxRecords, maxWaitMs, c.req.raw.signal);
    const format = responseFormat(c.req.header('accept'));
    const records: Record<string, unknown>[] = [];
    const errors: { topic: string; partition: number; kafkaError: string; message: string }[] = [];
    for (const p of answer.partitions) {
      const topic = ctx.broker.topicNameById(p.topicId) ?? p.topicId;
      if (p.errorCode !== 0) errors.push({ topic, partition: p.partition, kafkaError: errorName(p.errorCode) ?? 'UNKNOWN_SERVER_ERROR', message: p.errorMessage ?? '' });
      if (p.records === null || p.acquiredRecords.length === 0) continue;
      for (const batch of readRecordBatches(p.records)) {
        if (batch.isControl) continue;
        for (const record of batch.records()) {
          const range = p.acquiredRecords.find((r) => r.firstOffset <= record.offset && record.offset <= r.lastOffset);
          if (range === undefined) continue;
          records.push({ topic, ...recordForResponse(p.partition, record, format), deliveryCount: range.deliveryCount });
        }
      }
    }
    return respond(c, { memberId: member.memberId, records, ...(errors.length === 0 ? {} : { errors }) });
  });

  app.post('/v1/share-groups/:group/members/:member/acknowledgements', async (c) => {
    const group = groupParam(c);
    const body = await requestBody(ctx, c);
    const principal = c.get('principal');
    const member = memberOf(c, group);
    if (!isObject(body) || !Array.isArray(body['acknowledgements']) || body['acknowledgements'].length === 0) {
      throw new HttpProblem('badRequest', 'the body must be {"acknowledgements": [{"topic", "partition", "offset" or "firstOffset"+"lastOffset", "type": "accept" | "release" | "reject"}]}');
    }
    const entries = body['acknowledgements'] as unknown[];
    if (entries.length > MAX_ACKNOWLEDGEMENTS) throw new HttpProblem('badRequest', `"acknowledgements" holds ${entries.length} entries; the limit is ${MAX_ACKNOWLEDGEMENTS}`);
    const byPartition = new Map<string, { topic: string; topicId: string; partition: number; acknowledgementBatches: AcknowledgementBatch[] }>();
    entries.forEach((entry, i) => {
      const path = `acknowledgements[${i}]`;
      if (!isObject(entry)) throw new HttpProblem('badRequest', `${path} must be an object`);
      const topic = readableTopic(ctx, principal, entry['topic'], `${path}.topic`);
      if (!member.topics.includes(topic)) throw new HttpProblem('badRequest', `${path}.topic "${topic}" is not a topic this member subscribes to (${member.topics.join(', ')})`);
      const partition = entry['partition'];
      const count = ctx.broker.topicLayout(topic).partitions;
      if (!Number.isInteger(partition) || (partition as number) < 0 || (partition as number) >= count) {
        throw new HttpProblem('badRequest', `${path}.partition must be a partition of "${topic}" (0 to ${count - 1}), got ${JSON.stringify(partition)}`);
      }
      const single = entry['offset'];
      const first = single ?? entry['firstOffset'];
      const last = single ?? entry['lastOffset'];
      const bothForms = single !== undefined && (entry['firstOffset'] !== undefined || entry['lastOffset'] !== undefined);
      if (bothForms || !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || (first as number) < 0 || (last as number) < (first as number)) {
        throw new HttpProblem('badRequest', `${path} needs "offset", or "firstOffset" and "lastOffset" with firstOffset <= lastOffset, as non-negative integers`);
      }
      const type = ACK_TYPES[String(entry['type'])];
      if (type === undefined) throw new HttpProblem('badRequest', `${path}.type must be "accept", "release" or "reject", got ${JSON.stringify(entry['type'])}`);
      const key = `${topic}\u0000${partition}`;
      let target = byPartition.get(key);
      if (target === undefined) {
        target = { topic, topicId: ctx.broker.describeTopic(topic).topicId, partition: partition as number, acknowledgementBatches: [] };
        byPartition.set(key, target);
      }
      target.acknowledgementBatches.push({ firstOffset: first as number, lastOffset: last as number, acknowledgeTypes: [type] });
    });
    const partitions = [...byPartition.values()];
    const failures = await members.acknowledge(member, partitions);
    if (failures.length > 0) {
      const failed = new Set(failures.map((f) => `${f.topicId}:${f.partition}`));
      const applied = partitions.filter((p) => !failed.has(`${p.topicId}:${p.partition}`)).map((p) => `${p.topic}-${p.partition}`);
      throw new HttpProblem(
        'conflict',
        `acknowledgements for ${failures.length} partition(s) were refused, nothing of them applied${applied.length === 0 ? '' : `; those for ${applied.join(', ')} were applied`}`,
        { errors: failures.map((f) => ({ topic: ctx.broker.topicNameById(f.topicId) ?? f.topicId, partition: f.partition, kafkaError: f.kafkaError, message: f.message })) },
      );
    }
    return respond(c, {
      acknowledged: partitions.map((p) => ({ topic: p.topic, partition: p.partition, records: p.acknowledgementBatches.reduce((n, b) => n + b.lastOffset - b.firstOffset + 1, 0) })),
    });
  });
}

function assignmentOf(ctx: HttpContext, member: HttpShareMember): { topic: string; partitions: number[] }[] {
  return member.assignment.flatMap((a) => {
    const topic = ctx.broker.topicNameById(a.topicId);
    return topic === undefined ? [] : [{ topic, partitions: a.partitions }];
  });
}
