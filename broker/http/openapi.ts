/**
 * The OpenAPI 3.1 description of every route, built from one table. A unit test checks that the
 * table and the app's registered routes are the same set.
 */
interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  /** The ACL operation the route needs on the topic, if any. */
  needs?: 'read' | 'write' | 'admin';
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: object;
  ok: { status: number; description: string; schema?: object; contentType?: string };
  errors: number[];
}

const ref = (name: string): object => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, object>, required: string[] = []): object => ({ type: 'object', properties, required });

const topicName = { name: 'topic', in: 'path', required: true, schema: { type: 'string' } };
const partitionNumber = { name: 'partition', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } };

export const ROUTE_DOCS: readonly RouteDoc[] = [
  {
    method: 'post', path: '/v1/topics/{topic}/records', summary: 'Append records (JSON or msgpack). One batch per partition; nothing is appended if any record is rejected.', needs: 'write',
    query: {
      acks: 'all (default, after fsync), leader (1) or none (0)',
      compression: "none, gzip, snappy, lz4 or zstd: the batches' codec when the topic's compression.type is producer (the default; uncompressed when absent); any other compression.type wins",
    },
    headers: { 'Idempotency-Key': 'retries with the same key append once and get the original offsets (window default 24 h)' },
    body: ref('ProduceRequest'),
    ok: { status: 200, description: 'partition and offset per record, in request order', schema: ref('ProduceResponse') },
    errors: [400, 401, 403, 404, 409, 413, 415, 422, 429],
  },
  {
    method: 'get', path: '/v1/topics/{topic}/partitions/{partition}/records', summary: 'Read records by offset or timestamp.', needs: 'read',
    query: { offset: 'a number, earliest (default) or latest', timestamp: 'ms since the epoch: start at the first record at or after it', limit: 'records to return (default 100)', isolation: 'read_committed (default) or read_uncommitted', maxWaitMs: 'wait up to this long for a first record' },
    ok: { status: 200, description: 'records and the next offset; any codec (gzip, snappy, lz4, zstd) is decoded', schema: ref('ReadResponse') },
    errors: [400, 401, 403, 404, 429, 500, 501],
  },
  {
    method: 'delete', path: '/v1/topics/{topic}/partitions/{partition}/records', summary: 'Delete every record below an offset (Kafka\'s DeleteRecords): the log start offset moves up to it, durably.', needs: 'admin',
    query: { before: 'an offset up to the high watermark, or latest (the high watermark)' },
    ok: { status: 200, description: 'the new log start offset', schema: obj({ partition: { type: 'integer' }, logStartOffset: { type: 'integer' } }) },
    errors: [400, 401, 403, 404],
  },
  {
    method: 'get', path: '/v1/topics/{topic}/partitions/{partition}/stream', summary: 'Live tail as server-sent events; event id is <partition>:<offset>; resume with Last-Event-ID.', needs: 'read',
    query: { offset: 'a number, earliest or latest (default)', timestamp: 'ms since the epoch', isolation: 'read_committed (default) or read_uncommitted' },
    headers: { 'Last-Event-ID': 'resume after this event id' },
    ok: { status: 200, description: 'text/event-stream of `record` events', contentType: 'text/event-stream', schema: { type: 'string' } },
    errors: [400, 401, 403, 404, 503],
  },
  { method: 'get', path: '/v1/topics', summary: 'List the topics the caller may use.', ok: { status: 200, description: 'topic names', schema: obj({ topics: { type: 'array', items: { type: 'string' } } }) }, errors: [401] },
  {
    method: 'post', path: '/v1/topics', summary: 'Create a topic.', needs: 'admin',
    body: obj({ name: { type: 'string' }, partitions: { type: 'integer', minimum: 1 }, config: { type: 'object', additionalProperties: { type: 'string' } } }, ['name']),
    ok: { status: 201, description: 'the new topic', schema: ref('TopicDescription') }, errors: [400, 401, 403, 409, 413, 415],
  },
  { method: 'get', path: '/v1/topics/{topic}', summary: 'Describe a topic: partitions, offsets, sizes, the log cleaner\'s figures for compacted topics, config.', needs: 'read', ok: { status: 200, description: 'the topic', schema: ref('TopicDescription') }, errors: [401, 403, 404] },
  { method: 'delete', path: '/v1/topics/{topic}', summary: 'Delete a topic and its schemas.', needs: 'admin', ok: { status: 204, description: 'deleted' }, errors: [401, 403, 404] },
  {
    method: 'post', path: '/v1/topics/{topic}/partitions', summary: 'Grow a topic to a new total partition count.', needs: 'admin',
    body: obj({ count: { type: 'integer' } }, ['count']), ok: { status: 200, description: 'the topic', schema: ref('TopicDescription') }, errors: [400, 401, 403, 404, 413, 415],
  },
  {
    method: 'patch', path: '/v1/topics/{topic}/config', summary: 'Change topic configs; null returns one to its default.', needs: 'admin',
    body: { type: 'object', additionalProperties: { type: ['string', 'null'] } }, ok: { status: 200, description: 'the topic', schema: ref('TopicDescription') }, errors: [400, 401, 403, 404, 413, 415],
  },
  { method: 'get', path: '/v1/topics/{topic}/schemas', summary: "List a topic's schema versions.", needs: 'read', ok: { status: 200, description: 'versions, oldest first', schema: obj({ versions: { type: 'array', items: ref('SchemaVersion') } }) }, errors: [401, 403, 404] },
  {
    method: 'post', path: '/v1/topics/{topic}/schemas', summary: 'Register a new JSON Schema version; it must be backward compatible with the latest.', needs: 'admin',
    body: obj({ schema: { type: 'object' } }, ['schema']), ok: { status: 201, description: 'the new version', schema: ref('SchemaVersion') }, errors: [400, 401, 403, 404, 409, 413, 415, 422],
  },
  { method: 'get', path: '/v1/topics/{topic}/schemas/{version}', summary: 'One schema version, or `latest`.', needs: 'read', ok: { status: 200, description: 'the version', schema: ref('SchemaVersion') }, errors: [401, 403, 404] },
  { method: 'get', path: '/v1/groups', summary: 'List consumer groups.', ok: { status: 200, description: 'groups', schema: obj({ groups: { type: 'array', items: obj({ groupId: { type: 'string' }, protocolType: { type: 'string' }, groupState: { type: 'string' } }) } }) }, errors: [401] },
  {
    method: 'get', path: '/v1/groups/{group}', summary: 'Describe a group: state, members, committed offsets and lag per partition (of topics the caller may read).', needs: 'read',
    ok: { status: 200, description: 'the group', schema: ref('GroupDescription') }, errors: [400, 401, 404],
  },
  {
    method: 'post', path: '/v1/groups/{group}/offsets', summary: 'Commit offsets for a topic, as a consumer outside the group protocol would.', needs: 'read',
    body: obj({ topic: { type: 'string' }, partitions: { type: 'array', items: obj({ partition: { type: 'integer' }, offset: { type: 'integer' }, metadata: { type: 'string' } }, ['partition', 'offset']) } }, ['topic', 'partitions']),
    ok: { status: 200, description: 'the committed offsets' }, errors: [400, 401, 403, 404, 409, 413, 415],
  },
  {
    method: 'post', path: '/v1/groups/{group}/reset', summary: 'Reset a member-less group\'s offsets for a topic (replay): earliest, latest, a timestamp or explicit offsets.', needs: 'admin',
    body: obj({ topic: { type: 'string' }, to: { oneOf: [{ enum: ['earliest', 'latest'] }, obj({ timestamp: { type: 'integer' } }, ['timestamp']), obj({ offsets: { type: 'object', additionalProperties: { type: 'integer' } } }, ['offsets'])] }, dryRun: { type: 'boolean', description: 'check and answer the offsets without writing them' } }, ['topic', 'to']),
    ok: { status: 200, description: 'the new offsets', schema: obj({ group: { type: 'string' }, topic: { type: 'string' }, partitions: { type: 'array' } }) }, errors: [400, 401, 403, 404, 409, 413, 415],
  },
  {
    method: 'post', path: '/v1/streams/applications/{applicationId}/reset',
    summary: "Reset a streams application for reprocessing (refused while its group has members): rewind its input offsets (clearing the stream time in their metadata), delete or truncate its internal topics. Local state is wiped on the application's host (rill streams reset --state-dir). With dryRun, only the plan.",
    needs: 'admin',
    body: obj({
      to: { oneOf: [{ enum: ['earliest', 'latest'] }, obj({ timestampMs: { type: 'integer' } }, ['timestampMs']), obj({ durationAgoMs: { type: 'integer' } }, ['durationAgoMs']), obj({ offsets: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } } } }, ['offsets'])] },
      internalTopics: { enum: ['delete', 'truncate'] }, inputTopics: { type: 'array', items: { type: 'string' } }, dryRun: { type: 'boolean' },
    }),
    ok: { status: 200, description: 'the plan (done, or for a dry run to be done), with `text`, the plan as lines', schema: ref('ResetPlan') },
    errors: [400, 401, 403, 404, 409, 413, 415],
  },
  {
    method: 'post', path: '/v1/topics/{topic}/replay',
    summary: 'Copy a range of the topic into a target topic exactly once, optionally filtered; answers when done. Interrupted (or with the same replayId again), it resumes from what it committed: nothing is copied twice.',
    needs: 'read',
    body: obj({
      target: { type: 'string' }, from: {}, until: {}, partitions: { type: 'array', items: { type: 'integer' } },
      filter: { oneOf: [obj({ keyEquals: { type: 'string' } }, ['keyEquals']), obj({ keyPrefix: { type: 'string' } }, ['keyPrefix']), obj({ header: { type: 'string' }, equals: { type: 'string' } }, ['header', 'equals'])] },
      partitioning: { enum: ['keep', 'key'] }, replayId: { type: 'string' },
    }, ['target']),
    ok: { status: 200, description: 'records copied and filtered out, the range per partition', schema: ref('ReplayResult') },
    errors: [400, 401, 403, 404, 413, 415],
  },
  {
    method: 'post', path: '/v1/streams/diff', summary: 'Compare the latest value per key of two output topics (v1 and v2 of a job) in a key and time range: added, removed, changed, unchanged, and the differing keys (raw bytes; text when UTF-8, else base64:...).', needs: 'read',
    body: obj({ topicA: { type: 'string' }, topicB: { type: 'string' }, fromKey: { type: 'string' }, toKey: { type: 'string' }, fromTimeMs: { type: 'integer' }, toTimeMs: { type: 'integer' }, limit: { type: 'integer' } }, ['topicA', 'topicB']),
    ok: { status: 200, description: 'summary and differences', schema: ref('OutputDiff') },
    errors: [400, 401, 403, 404, 413, 415],
  },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics (text exposition format 0.0.4).', ok: { status: 200, description: 'metrics', contentType: 'text/plain', schema: { type: 'string' } }, errors: [] },
  { method: 'get', path: '/healthz', summary: 'Liveness: the process serves HTTP.', ok: { status: 200, description: 'ok', schema: obj({ status: { type: 'string' } }) }, errors: [] },
  { method: 'get', path: '/readyz', summary: 'Readiness: the broker is open and no partition is offline.', ok: { status: 200, description: 'ready', schema: obj({ status: { type: 'string' } }) }, errors: [503] },
  { method: 'get', path: '/v1/openapi.json', summary: 'This document.', ok: { status: 200, description: 'OpenAPI 3.1', schema: { type: 'object' } }, errors: [] },
  {
    method: 'get', path: '/v1/summary', summary: "Running totals over the topics and groups the token may see (topics, partitions, disk bytes, records appended, HTTP records and bytes in and out), for the console's live charts.",
    ok: { status: 200, description: 'one sample; rates are differences of two samples over their timeMs apart', schema: { type: 'object' } }, errors: [401],
  },
  {
    method: 'get', path: '/v1/stream-apps', summary: "Streams applications that publish their status (<applicationId>-streams-status), with running and stale instances, their group's lag, commit rate, late drops and dead letters. Lists those whose group the caller may describe and whose status topic it may read.",
    ok: { status: 200, description: 'the applications', schema: obj({ applications: { type: 'array', items: { type: 'object' } } }) }, errors: [401],
  },
  {
    method: 'get', path: '/v1/stream-apps/{applicationId}', summary: "One streams application: its instances (state, stale or not, tasks and their state, restore progress, metrics), its group's offsets and lag, and its topology (topics the caller may not see are null). Needs Group Describe and read on the status topic.",
    ok: { status: 200, description: 'the application', schema: { type: 'object' } }, errors: [400, 401, 403, 404],
  },
  {
    method: 'get', path: '/v1/share-groups', summary: 'List share groups (KIP-932) the caller may describe, with their state and member count.',
    ok: { status: 200, description: 'the share groups', schema: obj({ groups: { type: 'array', items: obj({ groupId: { type: 'string' }, groupState: { type: 'string' }, members: { type: 'integer' } }) } }) }, errors: [401],
  },
  {
    method: 'get', path: '/v1/share-groups/{group}/partitions', summary: "A share group's partitions: start and end offsets (SPSO, SPEO), high watermark, in-flight records by state (available, acquired, acknowledged, archived, in retry backoff), delivery counts, and the records in its dead-letter topic. Needs Group Describe; only topics the caller may read.",
    ok: { status: 200, description: 'the share partitions', schema: { type: 'object' } }, errors: [400, 401, 403, 404],
  },
  { method: 'get', path: '/', summary: 'The web console (no token needed to load it; it calls this API with the token the user enters).', ok: { status: 200, description: 'index.html, not cached', contentType: 'text/html', schema: { type: 'string' } }, errors: [503] },
  { method: 'get', path: '/index.html', summary: 'The web console, as `/`.', ok: { status: 200, description: 'index.html, not cached', contentType: 'text/html', schema: { type: 'string' } }, errors: [503] },
  { method: 'get', path: '/console/{name}', summary: "The web console's content-hashed scripts and styles, cached for a year.", ok: { status: 200, description: 'a static file', contentType: 'text/javascript', schema: { type: 'string' } }, errors: [404] },
  {
    method: 'get', path: '/v1/share-groups/{group}', summary: 'Describe a share group (KIP-932): state, members with their assignments, its lock duration, delivery limit, session timeout, dead-letter topic and retry backoff ladder. Needs Group Describe.',
    ok: { status: 200, description: 'the share group', schema: { type: 'object' } }, errors: [400, 401, 403, 404],
  },
  {
    method: 'post', path: '/v1/share-groups/{group}/members', needs: 'read',
    summary: 'Join a share group as a new member subscribed to topics. The member lives while it is used: every fetch, acknowledgement or heartbeat renews it, and after group.share.session.timeout.ms (sessionTimeoutMs in the answer) without one it expires and its records are released. Needs Group Read.',
    body: obj({ topics: { type: 'array', items: { type: 'string' }, minItems: 1 } }, ['topics']),
    ok: { status: 201, description: 'the member id (use it in the member routes, as the same principal), its session timeout and record lock duration', schema: obj({ groupId: { type: 'string' }, memberId: { type: 'string' }, topics: { type: 'array', items: { type: 'string' } }, sessionTimeoutMs: { type: 'integer' }, recordLockDurationMs: { type: 'integer' } }) },
    errors: [400, 401, 403, 404, 413, 415, 429],
  },
  {
    method: 'post', path: '/v1/share-groups/{group}/members/{member}/heartbeat', needs: 'read', summary: 'Keep a member alive while it processes without fetching; answers its assignment.',
    ok: { status: 200, description: 'the member and its assigned partitions', schema: obj({ memberId: { type: 'string' }, assignment: { type: 'array', items: obj({ topic: { type: 'string' }, partitions: { type: 'array', items: { type: 'integer' } } }) }, sessionTimeoutMs: { type: 'integer' } }) },
    errors: [400, 401, 403, 404],
  },
  { method: 'delete', path: '/v1/share-groups/{group}/members/{member}', needs: 'read', summary: 'Leave the share group: the records the member holds are released at once.', ok: { status: 204, description: 'left' }, errors: [400, 401, 403, 404] },
  {
    method: 'post', path: '/v1/share-groups/{group}/members/{member}/fetch', needs: 'read',
    summary: 'Acquire records from the member\'s partitions, each locked to it for share.record.lock.duration.ms; a record is handed to one member at a time. Acknowledge each before its lock expires, or it is delivered again with its deliveryCount raised. One fetch per member at a time.',
    body: obj({ maxRecords: { type: 'integer', minimum: 1, description: 'records to acquire at most (default 100)' }, maxWaitMs: { type: 'integer', minimum: 0, description: 'wait up to this long for a first record (default 0; at most 30 s and half the session timeout)' } }),
    ok: { status: 200, description: 'acquired records as a read returns them, each with topic and deliveryCount (1 on first delivery); `errors` per partition that could not be read', schema: obj({ memberId: { type: 'string' }, records: { type: 'array', items: { type: 'object' } }, errors: { type: 'array' } }) },
    errors: [400, 401, 403, 404, 409, 413, 415],
  },
  {
    method: 'post', path: '/v1/share-groups/{group}/members/{member}/acknowledgements', needs: 'read',
    summary: 'Acknowledge acquired records, each by offset or by range: accept (done), release (delivered again, after the group\'s retry backoff when it has one) or reject (copied to the dead-letter topic, then archived). A release or reject at the delivery limit dead-letters the record. Per partition, all or none; answers once durable (and once a dead-letter copy is fsynced).',
    body: obj({ acknowledgements: { type: 'array', items: obj({ topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer' }, firstOffset: { type: 'integer' }, lastOffset: { type: 'integer' }, type: { enum: ['accept', 'release', 'reject'] } }, ['topic', 'partition', 'type']) } }, ['acknowledgements']),
    ok: { status: 200, description: 'records acknowledged per partition', schema: obj({ acknowledged: { type: 'array', items: obj({ topic: { type: 'string' }, partition: { type: 'integer' }, records: { type: 'integer' } }) } }) },
    errors: [400, 401, 403, 404, 409, 413, 415],
  },
];

const problem = { content: { 'application/problem+json': { schema: ref('Problem') } } };
const errorText: Record<number, string> = {
  400: 'malformed request', 401: 'missing or unknown bearer token', 403: 'the token may not do this on the topic', 404: 'unknown topic, partition, group or version',
  409: 'conflict (topic exists, Idempotency-Key reused for another request, incompatible schema)', 413: 'body larger than the limit',
  415: 'Content-Type is not JSON or msgpack', 422: 'validation failed; every error is listed', 429: 'over the rate limit; see Retry-After', 503: 'unavailable',
  500: 'a stored batch cannot be decoded (corrupt-records: the detail names its offsets and codec)', 501: 'a stored batch has a compression value no codec reads (unsupported-compression)',
};

function operation(route: RouteDoc): object {
  const params: object[] = [];
  if (route.path.includes('{topic}')) params.push(topicName);
  if (route.path.includes('{partition}')) params.push(partitionNumber);
  if (route.path.includes('{group}')) params.push({ name: 'group', in: 'path', required: true, schema: { type: 'string' } });
  if (route.path.includes('{member}')) params.push({ name: 'member', in: 'path', required: true, schema: { type: 'string' } });
  if (route.path.includes('{applicationId}')) params.push({ name: 'applicationId', in: 'path', required: true, schema: { type: 'string' } });
  if (route.path.includes('{version}')) params.push({ name: 'version', in: 'path', required: true, schema: { type: 'string' } });
  for (const [name, description] of Object.entries(route.query ?? {})) params.push({ name, in: 'query', required: false, description, schema: { type: 'string' } });
  for (const [name, description] of Object.entries(route.headers ?? {})) params.push({ name, in: 'header', required: false, description, schema: { type: 'string' } });
  const responses: Record<string, object> = {
    [route.ok.status]: {
      description: route.ok.description,
      ...(route.ok.schema === undefined ? {} : { content: { [route.ok.contentType ?? 'application/json']: { schema: route.ok.schema } } }),
    },
  };
  for (const status of route.errors) responses[status] = { description: errorText[status] ?? 'error', ...problem };
  return {
    summary: route.summary,
    ...(route.needs === undefined ? {} : { description: `Needs the \`${route.needs}\` ACL on the topic when authentication is on.` }),
    parameters: params,
    ...(route.body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: route.body }, 'application/msgpack': { schema: route.body } } } }),
    responses,
    ...(route.errors.includes(401) ? { security: [{ bearer: [] }] } : {}),
  };
}

export function openApiDocument(routes: readonly RouteDoc[] = ROUTE_DOCS): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  const record = obj({
    key: { type: ['string', 'null'] }, value: {}, headers: { oneOf: [{ type: 'object', additionalProperties: { type: ['string', 'null'] } }, { type: 'array', items: obj({ key: { type: 'string' }, value: { type: ['string', 'null'] } }, ['key']) }] },
    partition: { type: 'integer', minimum: 0 }, timestamp: { type: 'integer', minimum: 0 },
    deliverAt: { type: 'integer', minimum: 0, description: 'deliver no earlier than this time (ms since the epoch); the topic needs rill.delayed.delivery=true' },
    delayMs: { type: 'integer', minimum: 0, description: 'deliver this many ms after the broker receives the record; the topic needs rill.delayed.delivery=true' },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'Rill HTTP API', version: '1', description: 'Produce, read, tail and administer topics of a Rill broker. Bodies are JSON or msgpack (Content-Type / Accept); errors are RFC 9457 problem details.' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Problem: obj({ type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, errors: { type: 'array' }, kafkaError: { type: 'string' } }, ['type', 'title', 'status', 'detail']),
        ProduceRequest: obj({ records: { type: 'array', items: record, minItems: 1 } }, ['records']),
        ProduceResponse: obj({ records: { type: 'array', items: obj({ partition: { type: 'integer' }, offset: { type: 'integer' } }) } }),
        ReadRecord: obj({ partition: { type: 'integer' }, offset: { type: 'integer' }, timestamp: { type: 'integer' }, key: { type: ['string', 'null'] }, value: {}, headers: { type: 'array' }, keyEncoding: { enum: ['base64'] }, valueEncoding: { enum: ['utf8', 'base64'] } }),
        ReadResponse: obj({ records: { type: 'array', items: ref('ReadRecord') }, nextOffset: { type: 'integer' }, highWatermark: { type: 'integer' } }),
        TopicDescription: obj({ name: { type: 'string' }, topicId: { type: 'string' }, internal: { type: 'boolean' }, partitions: { type: 'array' }, configs: { type: 'array' } }),
        GroupDescription: obj({ groupId: { type: 'string' }, state: { type: 'string' }, members: { type: 'array', items: ref('GroupMember') }, offsets: { type: 'array', items: obj({ topic: { type: 'string' }, partition: { type: 'integer' }, committedOffset: { type: 'integer' }, highWatermark: { type: 'integer' }, lag: { type: 'integer' } }) }, totalLag: { type: 'integer' } }),
        GroupMember: obj({
          memberId: { type: 'string' }, clientId: { type: 'string' }, clientHost: { type: 'string' }, groupInstanceId: { type: ['string', 'null'] },
          subscribedTopics: { type: ['array', 'null'], items: { type: 'string' }, description: "the topics in the member's ConsumerProtocolSubscription (of those the caller may read); null unless the protocol type is `consumer` and the subscription is readable" },
          assignment: {
            type: ['array', 'null'], items: obj({ topic: { type: 'string' }, partitions: { type: 'array', items: { type: 'integer' } } }),
            description: "the partitions the leader assigned the member (its ConsumerProtocolAssignment, of topics the caller may read), by topic, ascending; null when they cannot be shown: not a `consumer` group, not Stable, or unreadable bytes",
          },
          assignmentError: { type: ['string', 'null'], description: 'why `assignment` is null; null when it is not' },
        }),
        ResetPlan: obj({ applicationId: { type: 'string' }, dryRun: { type: 'boolean' }, to: { type: 'string' }, inputs: { type: 'array' }, internalTopics: { type: 'array' }, stateDirectory: {}, kept: { type: 'array' }, warnings: { type: 'array' }, text: { type: 'string' } }),
        ReplayResult: obj({ source: { type: 'string' }, target: { type: 'string' }, replayId: { type: 'string' }, copied: { type: 'integer' }, filteredOut: { type: 'integer' }, scannedOffsets: { type: 'integer' }, totalOffsets: { type: 'integer' }, partitions: { type: 'array' }, done: { type: 'boolean' } }),
        OutputDiff: obj({ topicA: { type: 'string' }, topicB: { type: 'string' }, summary: { type: 'object' }, differences: { type: 'array', items: obj({ kind: { enum: ['added', 'removed', 'changed'] }, key: { type: ['string', 'null'] }, a: { type: ['string', 'null'] }, b: { type: ['string', 'null'] } }) }, truncated: { type: 'boolean' } }),
        SchemaVersion: obj({ version: { type: 'integer' }, schema: { type: 'object' }, createdMs: { type: 'integer' } }),
      },
    },
  };
}
