import { KafkaError } from '../../protocol/kafka-error.ts';

/**
 * Transaction check-back: the record formats shared by the broker's coordinator and the SDK's
 * `TransactionChecker`. Both topics are plain Kafka topics, so any client can read them and a
 * checker works over every transport.
 *
 * `__transaction_checkers` (compacted, 1 partition): one registration per transactional id.
 *
 *   key:   the transactional id, UTF-8
 *   value: JSON `{"version":0,"kind":"topic"}`
 *          or   `{"version":0,"kind":"webhook","url":"https://...","timeoutMs":5000}`
 *          a null value (tombstone) unregisters the id.
 *
 * `__transaction_checks` (1 partition, delete policy, 7 days): the check protocol and its audit
 * trail in one ordered log. Keys are transactional ids (UTF-8); values are JSON objects:
 *
 *   {"version":0,"type":"check","producerId":7,"producerEpoch":3,"attempt":1,"maxAttempts":5,
 *    "txnStartMs":...,"partitions":[{"topic":"orders","partition":0}],"via":"topic"|"webhook"}
 *       written by the coordinator for each attempt;
 *   {"version":0,"type":"answer","producerId":7,"producerEpoch":3,"attempt":1,
 *    "status":"commit"|"abort"|"unknown","source":"checker"|"webhook","detail":"..."}
 *       written by a checker (Produce; the broker validates it against the pending check) or, for
 *       a webhook, by the coordinator with what the webhook said;
 *   {"version":0,"type":"outcome","producerId":7,"producerEpoch":3,"result":"commit"|"abort",
 *    "reason":"answer"|"attempts-exhausted"|"checker-unregistered","attempts":2}
 *       written by the coordinator before it acts: the durable decision a restart honours.
 *
 * `producerId`/`producerEpoch` name the producer instance whose transaction is checked: the
 * identity it held (and wrote into its local database), not the epoch the coordinator bumped to
 * fence it.
 */
export const TRANSACTION_CHECKERS_TOPIC = '__transaction_checkers';
export const TRANSACTION_CHECKS_TOPIC = '__transaction_checks';

/** Whether Produce to `topic` goes through the check-back's validation. */
export function isCheckBackTopic(topic: string): boolean {
  return topic === TRANSACTION_CHECKERS_TOPIC || topic === TRANSACTION_CHECKS_TOPIC;
}

const FORMAT_VERSION = 0;
const MAX_URL_LENGTH = 2048;
const MAX_DETAIL_LENGTH = 512;
/** Bounds on a webhook's answer time; the default when a registration names none. */
export const WEBHOOK_TIMEOUT_MS = { min: 1, max: 60_000, default: 5_000 } as const;

export const CheckStatus = { commit: 'commit', abort: 'abort', unknown: 'unknown' } as const;
export type CheckStatusValue = (typeof CheckStatus)[keyof typeof CheckStatus];
const STATUSES: ReadonlySet<string> = new Set(Object.values(CheckStatus));

export type CheckerRegistration = { kind: 'topic' } | { kind: 'webhook'; url: string; timeoutMs: number };

export interface CheckedTransaction {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
}

export interface CheckRequest extends CheckedTransaction {
  type: 'check';
  attempt: number;
  maxAttempts: number;
  txnStartMs: number;
  partitions: { topic: string; partition: number }[];
  via: 'topic' | 'webhook';
}

export interface CheckAnswer extends CheckedTransaction {
  type: 'answer';
  attempt: number;
  status: CheckStatusValue;
  source: 'checker' | 'webhook';
  detail?: string;
}

export interface CheckOutcome extends CheckedTransaction {
  type: 'outcome';
  result: 'commit' | 'abort';
  reason: 'answer' | 'attempts-exhausted' | 'checker-unregistered';
  attempts: number;
}

export type CheckEvent = CheckRequest | CheckAnswer | CheckOutcome;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): never {
  throw new KafkaError('INVALID_RECORD', message);
}

/** Why `url` cannot be a checker webhook (absolute http or https, no credentials), or undefined. */
export function webhookUrlProblem(url: string): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `the webhook URL is longer than ${MAX_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `the webhook URL "${url}" is not an absolute URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `the webhook URL "${url}" must use http or https, not ${parsed.protocol}`;
  if (parsed.username !== '' || parsed.password !== '') return 'the webhook URL must not carry credentials (they would be stored in a topic)';
  return undefined;
}

export function encodeCheckKey(transactionalId: string): Uint8Array {
  return utf8.encode(transactionalId);
}

export function decodeCheckKey(key: Uint8Array | null): string {
  if (key === null || key.length === 0) invalid('a check-back record needs the transactional id as its key');
  try {
    return fromUtf8.decode(key);
  } catch {
    return invalid('a check-back record key is not UTF-8');
  }
}

export function encodeRegistration(registration: CheckerRegistration): Uint8Array {
  return utf8.encode(JSON.stringify({ version: FORMAT_VERSION, ...registration }));
}

function parseJsonObject(value: Uint8Array, what: string): { [key: string]: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8.decode(value));
  } catch {
    invalid(`${what} is not UTF-8 JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) invalid(`${what} is not a JSON object`);
  const object = parsed as { [key: string]: unknown };
  if (object['version'] !== FORMAT_VERSION) invalid(`${what} has version ${String(object['version'])}; this broker reads version ${FORMAT_VERSION}`);
  return object;
}

/** A registration value (null: unregistered); anything malformed is INVALID_RECORD. */
export function decodeRegistration(value: Uint8Array | null): CheckerRegistration | null {
  if (value === null) return null;
  const v = parseJsonObject(value, 'a checker registration');
  if (v['kind'] === 'topic') return { kind: 'topic' };
  if (v['kind'] !== 'webhook') invalid(`a checker registration's kind must be "topic" or "webhook", not ${JSON.stringify(v['kind'])}`);
  const url = v['url'];
  if (typeof url !== 'string') invalid('a webhook registration needs a url');
  const problem = webhookUrlProblem(url);
  if (problem !== undefined) invalid(problem);
  const timeoutMs = v['timeoutMs'] ?? WEBHOOK_TIMEOUT_MS.default;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < WEBHOOK_TIMEOUT_MS.min || timeoutMs > WEBHOOK_TIMEOUT_MS.max) {
    invalid(`a webhook's timeoutMs must be an integer from ${WEBHOOK_TIMEOUT_MS.min} to ${WEBHOOK_TIMEOUT_MS.max}`);
  }
  return { kind: 'webhook', url, timeoutMs };
}

export function encodeCheckEvent(event: CheckEvent): Uint8Array {
  const { transactionalId: _, ...fields } = event;
  return utf8.encode(JSON.stringify({ version: FORMAT_VERSION, ...fields }));
}

function integer(v: { [key: string]: unknown }, name: string, min: number): number {
  const n = v[name];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) invalid(`a check-back record's ${name} must be an integer of at least ${min}`);
  return n;
}

/** A `__transaction_checks` record; anything malformed is INVALID_RECORD. */
export function decodeCheckEvent(key: Uint8Array | null, value: Uint8Array | null): CheckEvent {
  const transactionalId = decodeCheckKey(key);
  if (value === null) invalid('a check-back record needs a value');
  const v = parseJsonObject(value, 'a check-back record');
  const base = { transactionalId, producerId: integer(v, 'producerId', 0), producerEpoch: integer(v, 'producerEpoch', 0) };
  switch (v['type']) {
    case 'check': {
      const partitions = Array.isArray(v['partitions']) ? (v['partitions'] as { topic: string; partition: number }[]) : [];
      return {
        ...base,
        type: 'check',
        attempt: integer(v, 'attempt', 1),
        maxAttempts: integer(v, 'maxAttempts', 1),
        txnStartMs: Number(v['txnStartMs'] ?? -1),
        partitions: partitions.map((p) => ({ topic: String(p.topic), partition: Number(p.partition) })),
        via: v['via'] === 'webhook' ? 'webhook' : 'topic',
      };
    }
    case 'answer': {
      const status = v['status'];
      if (typeof status !== 'string' || !STATUSES.has(status)) invalid(`an answer's status must be "commit", "abort" or "unknown", not ${JSON.stringify(status)}`);
      const detail = v['detail'];
      return {
        ...base,
        type: 'answer',
        attempt: integer(v, 'attempt', 1),
        status: status as CheckStatusValue,
        source: v['source'] === 'webhook' ? 'webhook' : 'checker',
        ...(typeof detail === 'string' ? { detail: detail.slice(0, MAX_DETAIL_LENGTH) } : {}),
      };
    }
    case 'outcome': {
      const result = v['result'];
      if (result !== 'commit' && result !== 'abort') invalid('an outcome\'s result must be "commit" or "abort"');
      const reason = v['reason'];
      if (reason !== 'answer' && reason !== 'attempts-exhausted' && reason !== 'checker-unregistered') invalid(`unknown outcome reason ${JSON.stringify(reason)}`);
      return { ...base, type: 'outcome', result, reason, attempts: integer(v, 'attempts', 0) };
    }
    default:
      return invalid(`a check-back record's type must be "check", "answer" or "outcome", not ${JSON.stringify(v['type'])}`);
  }
}

/** Text for an answer's detail, cut to the bound the format keeps. */
export function checkDetail(text: string): string {
  return text.slice(0, MAX_DETAIL_LENGTH);
}
