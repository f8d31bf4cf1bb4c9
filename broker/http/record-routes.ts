import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { Acks } from '../log/acks.ts';
import { decodeBody, readBodyBytes, requestFormat, responseFormat } from './body-codec.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { produceIdempotently } from './idempotent-produce.ts';
import { produceRecords } from './produce.ts';
import { HttpProblem } from './problem.ts';
import { fetchRecords, parseIsolation, parseNonNegativeInteger, resolveStartOffset } from './read-records.ts';
import { parseProduceBody, recordForResponse } from './record-codec.ts';
import { recordStream, resumeOffset } from './record-stream.ts';
import { parseAcks, parseCompression, parseLimit, partitionParam, respond, topicParam } from './route-helpers.ts';

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const DEFAULT_READ_LIMIT = 100;
const MAX_READ_WAIT_MS = 30_000;

/** Produce, read, delete (up to an offset) and live-tail routes. */
export function recordRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  app.post('/v1/topics/:topic/records', async (c) => {
    const topic = topicParam(ctx, c, 'write');
    const acks = parseAcks(c.req.query('acks'));
    const compression = parseCompression(c.req.query('compression'));
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      throw new HttpProblem('badRequest', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    }
    const contentType = c.req.header('content-type');
    const format = requestFormat(contentType);
    const bytes = await readBodyBytes(c.req.raw, ctx.options.maxBodyBytes);
    const { records, errors } = parseProduceBody(decodeBody(bytes, format), ctx.options.maxRecordsPerRequest, format);
    if (errors.length > 0) throw new HttpProblem('badRequest', `the produce body is malformed; nothing was appended`, { errors });
    ctx.topicLimiter?.take(topic, records.length, `topic "${topic}"`);
    if (idempotencyKey === undefined) return respond(c, { records: await produceRecords(ctx, topic, records, acks, compression) });
    const fingerprint = createHash('sha256').update(`${format}\n${acks}\n${compression ?? ''}\n`).update(bytes).digest('hex');
    const scope = `${c.get('principal').name}\0${topic}\0${idempotencyKey}`;
    // With acks other than all, acknowledged records may be lost in a crash anyway, so the intent
    // that makes a retry after a crash safe would buy nothing (and pooled producers need durable batches).
    const { result, replayed } = await ctx.idempotency.run(scope, fingerprint, async (attempt) => ({
      status: 200,
      body: {
        records:
          acks === Acks.all
            ? await produceIdempotently(ctx, topic, records, acks, attempt, compression)
            : await produceRecords(ctx, topic, records, acks, compression),
      },
    }));
    if (replayed) ctx.metrics.idempotentReplays.inc();
    return respond(c, result.body, result.status, { 'idempotent-replayed': String(replayed) });
  });

  app.get('/v1/topics/:topic/partitions/:partition/records', async (c) => {
    const topic = topicParam(ctx, c, 'read');
    const partition = partitionParam(ctx, c, topic);
    ctx.topicLimiter?.take(topic, 1, `topic "${topic}"`);
    const query = { offset: c.req.query('offset'), timestamp: c.req.query('timestamp') };
    const offset = resolveStartOffset(ctx, topic, partition, query, 'earliest');
    const limit = parseLimit(c.req.query('limit'), DEFAULT_READ_LIMIT, ctx.options.maxReadRecords);
    const isolation = parseIsolation(c.req.query('isolation'));
    const waitParam = c.req.query('maxWaitMs');
    const maxWaitMs = waitParam === undefined ? 0 : Math.min(parseNonNegativeInteger('maxWaitMs', waitParam), MAX_READ_WAIT_MS);
    const fetched = await fetchRecords(ctx, topic, partition, { offset, limit, isolation, maxWaitMs }, c.req.raw.signal);
    const format = responseFormat(c.req.header('accept'));
    return respond(c, {
      records: fetched.records.map((r) => recordForResponse(partition, r, format)),
      nextOffset: fetched.nextOffset,
      highWatermark: fetched.highWatermark,
    });
  });

  app.delete('/v1/topics/:topic/partitions/:partition/records', async (c) => {
    const topic = topicParam(ctx, c, 'admin');
    const partition = partitionParam(ctx, c, topic);
    const before = c.req.query('before');
    if (before === undefined) throw new HttpProblem('badRequest', 'give before=<offset> or before=latest: records below it are deleted');
    const offset = before === 'latest' ? -1 : parseNonNegativeInteger('before', before);
    return respond(c, { partition, logStartOffset: await ctx.broker.deleteRecords(topic, partition, offset) });
  });

  app.get('/v1/topics/:topic/partitions/:partition/stream', (c) => {
    const topic = topicParam(ctx, c, 'read');
    const partition = partitionParam(ctx, c, topic);
    const resumeAt = resumeOffset(c.req.header('last-event-id'), partition);
    const offset =
      resumeAt ?? resolveStartOffset(ctx, topic, partition, { offset: c.req.query('offset'), timestamp: c.req.query('timestamp') }, 'latest');
    return recordStream(ctx, topic, partition, offset, parseIsolation(c.req.query('isolation')), c.req.raw.signal);
  });
}
