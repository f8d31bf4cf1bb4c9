import type { Hono } from 'hono';
import { isInternalTopic } from '../topic/topic-name.ts';
import { EmbeddedTransport } from '../embedded.ts';
import { StreamsError, StreamsErrorCode } from '../../streams/runtime/streams-error.ts';
import { type ResetApplicationOptions, type ResetTarget, formatResetPlan, resetApplication } from '../../streams/ops/application-reset.ts';
import { type DeclaredFilter, declaredFilter, describeFilter, type ReplayEnd, type ReplayStart, replayTopic } from '../../streams/ops/topic-replay.ts';
import { diffOutputs, diffToJson } from '../../streams/ops/output-diff.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { authorize } from './http-auth.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';
import { isObject, requestBody, respond } from './route-helpers.ts';

const APPLICATION_ID = /^[\w.\-]{1,249}$/;

function fromStreamsError(error: unknown): unknown {
  if (!(error instanceof StreamsError)) return error;
  switch (error.code) {
    case StreamsErrorCode.applicationActive:
      return new HttpProblem('conflict', error.message);
    case StreamsErrorCode.unknownApplication:
    case StreamsErrorCode.topicMismatch:
      return new HttpProblem('notFound', error.message);
    case StreamsErrorCode.invalidConfig:
      return new HttpProblem('badRequest', error.message);
    default:
      return error;
  }
}

async function withTransport<T>(ctx: HttpContext, work: (transport: Transport) => Promise<T>): Promise<T> {
  const transport = new EmbeddedTransport(ctx.broker, { clientId: 'rill-http' });
  try {
    return await work(transport);
  } catch (error) {
    throw fromStreamsError(error);
  } finally {
    await transport.close();
  }
}

function optionalInteger(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new HttpProblem('badRequest', `"${field}" must be a non-negative integer, got ${JSON.stringify(value)}`);
  return value as number;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpProblem('badRequest', `"${field}" must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function offsetsMap(value: unknown, field: string): Record<number, number> {
  if (!isObject(value)) throw new HttpProblem('badRequest', `"${field}.offsets" must map partition numbers to offsets`);
  const out: Record<number, number> = {};
  for (const [partition, offset] of Object.entries(value)) {
    if (!/^\d+$/.test(partition) || !Number.isSafeInteger(offset) || (offset as number) < 0) {
      throw new HttpProblem('badRequest', `"${field}.offsets" maps partition numbers to non-negative offsets; "${partition}": ${JSON.stringify(offset)} is not one`);
    }
    out[Number(partition)] = offset as number;
  }
  return out;
}

/** The reset body's `to`: "earliest", "latest", {"timestampMs"}, {"durationAgoMs"}, {"offsets": {"<topic>": {"<partition>": offset}}}. */
function resetTarget(to: unknown): ResetTarget {
  if (to === undefined || to === 'earliest') return 'earliest';
  if (to === 'latest') return to;
  if (isObject(to) && Number.isSafeInteger(to['timestampMs']) && (to['timestampMs'] as number) >= 0) return { timestampMs: to['timestampMs'] as number };
  if (isObject(to) && Number.isSafeInteger(to['durationAgoMs']) && (to['durationAgoMs'] as number) >= 0) return { durationAgoMs: to['durationAgoMs'] as number };
  if (isObject(to) && isObject(to['offsets'])) {
    return { offsets: Object.entries(to['offsets']).flatMap(([topic, partitions]) => Object.entries(offsetsMap(partitions, 'to')).map(([p, offset]) => ({ topic, partition: Number(p), offset }))) };
  }
  throw new HttpProblem('badRequest', '"to" must be "earliest", "latest", {"timestampMs": ms}, {"durationAgoMs": ms} or {"offsets": {"<topic>": {"<partition>": offset}}}');
}

function replayStart(value: unknown): ReplayStart | undefined {
  if (value === undefined || value === 'earliest') return value;
  if (isObject(value) && Number.isSafeInteger(value['timestampMs']) && (value['timestampMs'] as number) >= 0) return { timestampMs: value['timestampMs'] as number };
  if (isObject(value) && value['offsets'] !== undefined) return { offsets: offsetsMap(value['offsets'], 'from') };
  throw new HttpProblem('badRequest', '"from" must be "earliest", {"timestampMs": ms} or {"offsets": {"<partition>": offset}}');
}

function replayEnd(value: unknown): ReplayEnd | undefined {
  if (value === undefined || value === 'latest') return value;
  if (isObject(value) && Number.isSafeInteger(value['timestampMs']) && (value['timestampMs'] as number) >= 0) return { timestampMs: value['timestampMs'] as number };
  if (isObject(value) && value['offsets'] !== undefined) return { offsets: offsetsMap(value['offsets'], 'until') };
  throw new HttpProblem('badRequest', '"until" must be "latest", {"timestampMs": ms} or {"offsets": {"<partition>": offset}}');
}

function filterOf(value: unknown): DeclaredFilter | undefined {
  if (value === undefined) return undefined;
  if (isObject(value)) {
    if (typeof value['keyEquals'] === 'string' && Object.keys(value).length === 1) return { keyEquals: value['keyEquals'] };
    if (typeof value['keyPrefix'] === 'string' && Object.keys(value).length === 1) return { keyPrefix: value['keyPrefix'] };
    if (typeof value['header'] === 'string' && typeof value['equals'] === 'string' && Object.keys(value).length === 2) return { header: value['header'], equals: value['equals'] };
  }
  throw new HttpProblem('badRequest', '"filter" must be {"keyEquals": text}, {"keyPrefix": text} or {"header": name, "equals": text}');
}

function userTopic(ctx: HttpContext, topic: unknown, field: string): string {
  if (typeof topic !== 'string' || topic.length === 0) throw new HttpProblem('badRequest', `"${field}" must name a topic`);
  if (isInternalTopic(topic) || !ctx.broker.hasTopic(topic)) throw new HttpProblem('notFound', `topic "${topic}" does not exist`);
  return topic;
}

/**
 * Day-2 operations on streams applications and topics: application reset, topic replay, and the
 * side-by-side diff of two output topics (streams/ops/). Each runs to completion inside the
 * request over an embedded transport.
 */
export function streamsOpsRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  app.post('/v1/streams/applications/:applicationId/reset', async (c) => {
    const applicationId = c.req.param('applicationId') ?? '';
    if (!APPLICATION_ID.test(applicationId)) throw new HttpProblem('badRequest', `application id "${applicationId}" must be 1 to 249 of letters, digits, '.', '_', '-'`);
    const body = await requestBody(ctx, c);
    if (!isObject(body)) throw new HttpProblem('badRequest', 'the body must be a JSON object: {"to"?, "internalTopics"?, "inputTopics"?, "dryRun"?}');
    const unknownField = Object.keys(body).find((k) => !['to', 'internalTopics', 'inputTopics', 'dryRun'].includes(k));
    if (unknownField !== undefined) throw new HttpProblem('badRequest', `unknown field "${unknownField}"; local state is wiped on the application's host (rill streams reset --state-dir), not over the broker's API`);
    if (body['dryRun'] !== undefined && typeof body['dryRun'] !== 'boolean') throw new HttpProblem('badRequest', '"dryRun" must be a boolean');
    const inputTopics = body['inputTopics'];
    if (inputTopics !== undefined && (!Array.isArray(inputTopics) || !inputTopics.every((t) => typeof t === 'string'))) throw new HttpProblem('badRequest', '"inputTopics" must be an array of topic names');
    const internalTopics = body['internalTopics'];
    if (internalTopics !== undefined && internalTopics !== 'delete' && internalTopics !== 'truncate') throw new HttpProblem('badRequest', '"internalTopics" must be "delete" or "truncate"');
    const options: ResetApplicationOptions = {
      applicationId,
      to: resetTarget(body['to']),
      ...(inputTopics === undefined ? {} : { inputTopics: inputTopics as string[] }),
      ...(internalTopics === undefined ? {} : { internalTopics }),
    };
    const plan = await withTransport(ctx, async (transport) => {
      const planned = await resetApplication(transport, { ...options, dryRun: true });
      const principal = c.get('principal');
      for (const topic of new Set([...planned.inputs.map((p) => p.topic), ...planned.internalTopics.map((t) => t.topic)])) authorize(principal, 'admin', topic);
      return body['dryRun'] === true ? planned : resetApplication(transport, options);
    });
    return respond(c, { ...plan, text: formatResetPlan(plan) });
  });

  app.post('/v1/topics/:topic/replay', async (c) => {
    const principal = c.get('principal');
    const source = c.req.param('topic') ?? '';
    authorize(principal, 'read', source);
    userTopic(ctx, source, 'topic');
    const body = await requestBody(ctx, c);
    if (!isObject(body)) throw new HttpProblem('badRequest', 'the body must be {"target", "from"?, "until"?, "partitions"?, "filter"?, "partitioning"?, "replayId"?}');
    const target = typeof body['target'] === 'string' ? body['target'] : undefined;
    if (target === undefined) throw new HttpProblem('badRequest', '"target" must name the topic to copy into');
    authorize(principal, 'write', target);
    userTopic(ctx, target, 'target');
    const partitions = body['partitions'];
    if (partitions !== undefined && (!Array.isArray(partitions) || !partitions.every((p) => Number.isSafeInteger(p) && (p as number) >= 0))) throw new HttpProblem('badRequest', '"partitions" must be an array of partition numbers');
    const partitioning = body['partitioning'];
    if (partitioning !== undefined && partitioning !== 'keep' && partitioning !== 'key') throw new HttpProblem('badRequest', '"partitioning" must be "keep" or "key"');
    const replayId = optionalString(body, 'replayId');
    if (replayId !== undefined && !APPLICATION_ID.test(replayId)) throw new HttpProblem('badRequest', `"replayId" must be 1 to 249 of letters, digits, '.', '_', '-'`);
    const filter = filterOf(body['filter']);
    const from = replayStart(body['from']);
    const until = replayEnd(body['until']);
    const result = await withTransport(ctx, (transport) =>
      replayTopic(transport, {
        source,
        target,
        ...(from === undefined ? {} : { from }),
        ...(until === undefined ? {} : { to: until }),
        ...(partitions === undefined ? {} : { partitions: partitions as number[] }),
        ...(filter === undefined ? {} : { filter: declaredFilter(filter) }),
        ...(partitioning === undefined ? {} : { partitioning }),
        ...(replayId === undefined ? {} : { replayId }),
        signal: c.req.raw.signal,
      }),
    );
    return respond(c, { source, target, ...(filter === undefined ? {} : { filter: describeFilter(filter) }), ...result });
  });

  app.post('/v1/streams/diff', async (c) => {
    const body = await requestBody(ctx, c);
    if (!isObject(body)) throw new HttpProblem('badRequest', 'the body must be {"topicA", "topicB", "fromKey"?, "toKey"?, "fromTimeMs"?, "toTimeMs"?, "limit"?}');
    const principal = c.get('principal');
    for (const field of ['topicA', 'topicB']) {
      if (typeof body[field] === 'string') authorize(principal, 'read', body[field]);
    }
    const topicA = userTopic(ctx, body['topicA'], 'topicA');
    const topicB = userTopic(ctx, body['topicB'], 'topicB');
    const fromKey = optionalString(body, 'fromKey');
    const toKey = optionalString(body, 'toKey');
    const fromTimeMs = optionalInteger(body, 'fromTimeMs');
    const toTimeMs = optionalInteger(body, 'toTimeMs');
    const limit = optionalInteger(body, 'limit');
    const diff = await withTransport(ctx, (transport) =>
      diffOutputs(transport, {
        topicA,
        topicB,
        ...(fromKey === undefined ? {} : { fromKey }),
        ...(toKey === undefined ? {} : { toKey }),
        ...(fromTimeMs === undefined ? {} : { fromTimeMs }),
        ...(toTimeMs === undefined ? {} : { toTimeMs }),
        ...(limit === undefined ? {} : { limit: Math.min(limit, MAX_DIFF_LIMIT) }),
      }),
    );
    return respond(c, diffToJson(diff));
  });
}

/** Differences one answer lists at most. */
const MAX_DIFF_LIMIT = 10_000;
