import type { Hono } from 'hono';
import { isInternalTopic } from '../topic/topic-name.ts';
import { allows, authorize } from './http-auth.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';
import { isObject, requestBody, respond, topicParam } from './route-helpers.ts';

function stringConfig(value: unknown, path: string, allowNull: boolean): Record<string, string | null> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new HttpProblem('badRequest', `${path} must be an object of config names to values`);
  const config: Record<string, string | null> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'number') config[name] = String(v);
    else if (v === null && allowNull) config[name] = null;
    else throw new HttpProblem('badRequest', `${path}.${name} must be a string or number${allowNull ? ' (or null to reset it)' : ''}`);
  }
  return config;
}

/** Topic administration and per-topic JSON Schemas. */
export function topicRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  app.get('/v1/topics', (c) => {
    const principal = c.get('principal');
    const topics = ctx.broker.listTopics().filter((t) => ['read', 'write', 'admin'].some((op) => allows(principal, op as 'read', t)));
    return respond(c, { topics });
  });

  app.post('/v1/topics', async (c) => {
    const body = await requestBody(ctx, c);
    if (!isObject(body) || typeof body['name'] !== 'string') throw new HttpProblem('badRequest', 'the body must be {"name", "partitions", "config"}');
    const name = body['name'];
    authorize(c.get('principal'), 'admin', name);
    if (isInternalTopic(name)) throw new HttpProblem('forbidden', 'topics whose names start with "__" are internal');
    const partitions = body['partitions'];
    if (partitions !== undefined && !Number.isInteger(partitions)) throw new HttpProblem('badRequest', 'partitions must be an integer');
    const config = stringConfig(body['config'], 'config', false) as Record<string, string>;
    const description = await ctx.broker.createTopic(name, { ...(partitions === undefined ? {} : { partitions: partitions as number }), config });
    return respond(c, description, 201, { location: `/v1/topics/${name}` });
  });

  app.get('/v1/topics/:topic', (c) => respond(c, ctx.broker.describeTopic(topicParam(ctx, c, 'read'))));

  app.delete('/v1/topics/:topic', async (c) => {
    const topic = topicParam(ctx, c, 'admin');
    await ctx.broker.deleteTopic(topic);
    await ctx.schemas.remove(topic);
    return c.body(null, 204);
  });

  app.post('/v1/topics/:topic/partitions', async (c) => {
    const topic = topicParam(ctx, c, 'admin');
    const body = await requestBody(ctx, c);
    if (!isObject(body) || !Number.isInteger(body['count'])) throw new HttpProblem('badRequest', 'the body must be {"count": <new total partition count>}');
    await ctx.broker.createPartitions(topic, body['count'] as number);
    return respond(c, ctx.broker.describeTopic(topic));
  });

  app.patch('/v1/topics/:topic/config', async (c) => {
    const topic = topicParam(ctx, c, 'admin');
    const changes = stringConfig(await requestBody(ctx, c), 'the body', true);
    await ctx.broker.alterTopicConfig(topic, changes);
    return respond(c, ctx.broker.describeTopic(topic));
  });

  app.get('/v1/topics/:topic/schemas', (c) => {
    const topic = topicParam(ctx, c, 'read');
    return respond(c, { versions: ctx.schemas.versions(topic) });
  });

  app.post('/v1/topics/:topic/schemas', async (c) => {
    const topic = topicParam(ctx, c, 'admin');
    const body = await requestBody(ctx, c);
    if (!isObject(body) || !('schema' in body)) throw new HttpProblem('badRequest', 'the body must be {"schema": <JSON Schema>}');
    const version = await ctx.schemas.register(topic, body['schema'], ctx.options.nowMs());
    return respond(c, version, 201);
  });

  app.get('/v1/topics/:topic/schemas/:version', (c) => {
    const topic = topicParam(ctx, c, 'read');
    const which = c.req.param('version');
    const versions = ctx.schemas.versions(topic);
    const found = which === 'latest' ? versions.at(-1) : versions.find((v) => String(v.version) === which);
    if (found === undefined) throw new HttpProblem('notFound', `topic "${topic}" has no schema version "${which}"`);
    return respond(c, found);
  });
}
