import { decode } from '@msgpack/msgpack';

/** The console's one way to the broker: the `/v1` HTTP API, with the token the user gave. */

const TOKEN_KEY = 'rill.console.token';

/** The bearer token, kept for this browser tab only (sessionStorage), never in a cookie or the URL. */
export function storedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function storeToken(token: string): void {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** A refused or failed call, with the sentence the API gave (problem+json `detail`) and its field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fieldErrors: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

function explain(status: number, detail: string): string {
  if (status === 401) return `Not signed in: ${detail}. Enter a valid token above.`;
  if (status === 403) return `Not allowed: ${detail}.`;
  return detail;
}

function authHeaders(accept: string): Record<string, string> {
  const headers: Record<string, string> = { accept };
  const token = storedToken();
  if (token !== '') headers['authorization'] = `Bearer ${token}`;
  return headers;
}

/**
 * Reads a server-sent-event stream with the token (EventSource cannot send an Authorization
 * header): `onOpen` once the broker has answered (from then on, new records are in the stream),
 * then `onEvent` per event until `signal` aborts or the stream ends.
 */
export async function readEvents(path: string, signal: AbortSignal, onOpen: () => void, onEvent: (event: string, data: string) => void): Promise<void> {
  const response = await fetch(path, { headers: authHeaders('text/event-stream'), signal });
  if (!response.ok || response.body === null) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    throw new ApiError(response.status, explain(response.status, problem.detail ?? `HTTP ${response.status}`));
  }
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      onEvent(event, data);
    }
  }
}

/** A response body: MessagePack when the broker sent it (asked for with `accept: 'msgpack'`, binary kept as bytes), else JSON, else text. */
async function responseBody(response: Response): Promise<unknown> {
  if ((response.headers.get('content-type') ?? '').includes('msgpack')) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    return bytes.length === 0 ? undefined : decode(bytes);
  }
  const text = await response.text();
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}, accept: 'json' | 'msgpack' = 'json'): Promise<T> {
  const headers = authHeaders(accept === 'msgpack' ? 'application/msgpack' : 'application/json');
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
  } catch {
    throw new ApiError(0, 'The broker cannot be reached.');
  }
  const body = await responseBody(response);
  if (!response.ok) {
    const problem = typeof body === 'object' && body !== null ? (body as { detail?: unknown; title?: unknown; errors?: unknown }) : {};
    const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : `HTTP ${response.status}`;
    const errors = Array.isArray(problem.errors) ? (problem.errors as { path: string; message: string }[]) : [];
    throw new ApiError(response.status, explain(response.status, detail), errors);
  }
  return body as T;
}

export const enc = encodeURIComponent;

export interface TopicPartition {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  sizeBytes: number;
  offline: boolean;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  partitions: TopicPartition[];
  configs: { name: string; value: string; isDefault: boolean }[];
}

export interface ConsoleRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  keyEncoding?: string;
  value: unknown;
  valueEncoding?: string;
  headers?: { key: string; value: string | null }[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocolName: string;
  generationId: number;
  members: GroupMember[];
  offsets: { topic: string; partition: number; committedOffset: number; highWatermark: number; lag: number }[];
  totalLag: number;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Null unless the group's protocol type is `consumer` and the member's subscription is readable. */
  subscribedTopics: string[] | null;
  /** Null when the broker cannot show it (not a consumer group, rebalancing, unreadable bytes): `assignmentError` says why. */
  assignment: { topic: string; partitions: number[] }[] | null;
  assignmentError: string | null;
}

export interface BrokerSummary {
  timeMs: number;
  topics: number;
  partitions: number;
  offlinePartitions: number;
  groups: number;
  sizeBytes: number;
  recordsAppended: number;
  httpProducedRecords: number;
  httpProducedBytes: number;
  httpFetchedRecords: number;
  httpFetchedBytes: number;
  /** Null when no Kafka listener runs in the broker's process. */
  kafka: KafkaTrafficSummary | null;
  cleaner: CleanerSummary;
}

export interface KafkaTrafficSummary {
  receivedBytes: number;
  sentBytes: number;
  requests: Record<string, number>;
}

export interface CleanerSummary {
  partitions: { idle: number; cleaning: number; failed: number };
  maxDirtyRatio: number;
  cleanableBytes: number;
  totals: { bytesRead: number; bytesWritten: number; recordsRemoved: number; passes: number; errors: number };
  /** Failed partitions first, then those above their topic's min.cleanable.dirty.ratio, dirtiest first. */
  attention: CleanerAttentionPartition[];
  more: number;
}

export interface CleanerAttentionPartition {
  topic: string;
  partition: number;
  state: 'idle' | 'cleaning' | 'failed';
  dirtyRatio: number;
  minCleanableDirtyRatio: number;
  cleanableBytes: number;
  lastError: string | null;
}
