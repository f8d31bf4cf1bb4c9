import type { Context } from 'hono';
import { COMPRESSION_NAMES, type CompressionName } from '../../sdk/record/compression.ts';
import { isInternalTopic } from '../topic/topic-name.ts';
import { Acks, type AcksValue } from '../log/acks.ts';
import { encodeResponse, readBody, responseFormat } from './body-codec.ts';
import { authorize, type OperationValue } from './http-auth.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';

export type HttpRouteContext = Context<HttpEnv>;

/**
 * The topic named in the path, after checking the caller may do `operation` on it. Internal topics
 * are not reachable over HTTP and answer like unknown ones, after the ACL check so that a caller
 * without rights learns nothing about which topics exist.
 */
export function topicParam(ctx: HttpContext, c: HttpRouteContext, operation: OperationValue): string {
  const topic = c.req.param('topic') ?? '';
  authorize(c.get('principal'), operation, topic);
  if (isInternalTopic(topic) || !ctx.broker.hasTopic(topic)) throw new HttpProblem('notFound', `topic "${topic}" does not exist`);
  return topic;
}

export function partitionParam(ctx: HttpContext, c: HttpRouteContext, topic: string): number {
  const raw = c.req.param('partition') ?? '';
  const partition = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  const count = ctx.broker.topicLayout(topic).partitions;
  if (!Number.isInteger(partition) || partition >= count) {
    throw new HttpProblem('notFound', `topic "${topic}" has ${count} partitions; partition "${raw}" does not exist`);
  }
  return partition;
}

export function parseAcks(value: string | undefined): AcksValue {
  switch (value) {
    case undefined:
    case 'all':
    case '-1':
      return Acks.all;
    case '1':
    case 'leader':
      return Acks.leader;
    case '0':
    case 'none':
      return Acks.none;
    default:
      throw new HttpProblem('badRequest', `acks must be all (-1), leader (1) or none (0), got "${value}"`);
  }
}

/** The `compression` query parameter of a produce request: a Kafka codec name, or absent. */
export function parseCompression(value: string | undefined): CompressionName | undefined {
  if (value === undefined) return undefined;
  const name = COMPRESSION_NAMES.find((n) => n === value);
  if (name === undefined) throw new HttpProblem('badRequest', `compression must be one of ${COMPRESSION_NAMES.join(', ')}, got "${value}"`);
  return name;
}

export function parseLimit(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return Math.min(fallback, max);
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new HttpProblem('badRequest', `limit must be an integer from 1 to ${max}, got "${value}"`);
  return n;
}

/** Sends `value` as JSON or msgpack, whichever the Accept header prefers. */
export function respond(c: HttpRouteContext, value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return encodeResponse(value, responseFormat(c.req.header('accept')), status, headers);
}

export async function requestBody(ctx: HttpContext, c: HttpRouteContext): Promise<unknown> {
  return (await readBody(c.req.raw, ctx.options.maxBodyBytes)).body;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
