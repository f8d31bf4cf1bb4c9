import { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import type { ConsumerRecord } from '../../sdk/client/consumer/consumer-types.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';

export interface OutputDiffOptions<K = Uint8Array, V = Uint8Array> {
  /** The first version's output topic ("v1"). */
  topicA: string;
  /** The second version's output topic ("v2"). */
  topicB: string;
  /** Keys from this one (inclusive), compared as raw key bytes (a string as its UTF-8 bytes). */
  fromKey?: string | Uint8Array;
  /** Keys up to this one (inclusive). */
  toKey?: string | Uint8Array;
  /** Only records with a timestamp at or after this (ms). */
  fromTimeMs?: number;
  /** Only records with a timestamp before this (ms). */
  toTimeMs?: number;
  /** Differences listed at most (the summary counts all); 100 by default. */
  limit?: number;
  /** Decode keys for the listing (the comparison stays on raw keys). */
  keySerde?: Serde<K>;
  /** Compare decoded values (structurally) instead of raw bytes, and list them decoded. */
  valueSerde?: Serde<V>;
  /** Bound on distinct keys held per topic (1,000,000 by default); more fails the diff. */
  maxKeys?: number;
}

export type DiffKind = 'added' | 'removed' | 'changed';

export interface KeyDifference<K, V> {
  kind: DiffKind;
  key: K | null;
  /** The latest value in topicA (absent for 'added'). */
  a?: V | null;
  /** The latest value in topicB (absent for 'removed'). */
  b?: V | null;
}

export interface OutputDiff<K = Uint8Array, V = Uint8Array> {
  topicA: string;
  topicB: string;
  summary: {
    /** Distinct keys (with a non-null latest value) in range in each topic. */
    keysA: number;
    keysB: number;
    /** Only in topicB. */
    added: number;
    /** Only in topicA. */
    removed: number;
    /** In both, with different latest values. */
    changed: number;
    unchanged: number;
    recordsReadA: number;
    recordsReadB: number;
  };
  /** Differences in key order (raw bytes), at most `limit`. */
  differences: KeyDifference<K, V>[];
  /** More differences exist than were listed. */
  truncated: boolean;
}

const utf8 = new TextEncoder();
const DEFAULT_LIMIT = 100;
const DEFAULT_MAX_KEYS = 1_000_000;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

/** Structural equality of decoded values: primitives, arrays, plain objects, byte arrays. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return sameBytes(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A key as a map key: its bytes as a latin1 string (one char per byte, order-preserving). */
function keyId(key: Uint8Array | null): string {
  if (key === null) return '';
  let s = '\u0001';
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
  return s;
}

function bytesOf(key: string | Uint8Array | undefined): Uint8Array | undefined {
  return typeof key === 'string' ? utf8.encode(key) : key;
}

interface Latest {
  key: Uint8Array | null;
  value: Uint8Array | null;
}

/** The latest value per key of `topic`'s committed records now, within the key and time range. */
async function latestPerKey(transport: Transport, topic: string, inRange: (r: ConsumerRecord<Uint8Array, Uint8Array>) => boolean, maxKeys: number): Promise<{ latest: Map<string, Latest>; records: number }> {
  const ends = await new Admin(transport).topicOffsets(topic, 1);
  const open = ends.filter((e) => e.latest > e.earliest);
  const latest = new Map<string, Latest>();
  let records = 0;
  if (open.length === 0) return { latest, records };
  const consumer = new Consumer(transport, { isolationLevel: 'read_committed' });
  consumer.assign(open.map((e) => ({ topic, partition: e.partition, offset: e.earliest })));
  const done = new Set<number>();
  try {
    for await (const batch of consumer.batches({ includeEmpty: true })) {
      const end = ends.find((e) => e.partition === batch.partition)!.latest;
      for (const r of batch.records) {
        if (r.offset >= end || !inRange(r)) continue;
        records++;
        const id = keyId(r.key);
        if (r.value === null) latest.delete(id);
        else {
          latest.set(id, { key: r.key, value: r.value });
          if (latest.size > maxKeys) throw new StreamsError(StreamsErrorCode.invalidConfig, `topic "${topic}" holds more than ${maxKeys} keys in range; narrow the key or time range, or raise maxKeys`);
        }
      }
      if ((consumer.position(batch) ?? 0) >= end && !done.has(batch.partition)) {
        done.add(batch.partition);
        consumer.pause([{ topic, partition: batch.partition }]);
      }
      if (done.size === open.length) break;
    }
  } finally {
    await consumer.close();
  }
  return { latest, records };
}

/**
 * Compares two output topics (typically v1 and v2 of a job run side by side) key by key: the
 * latest value of each key within the key and time range, read read_committed up to each topic's
 * end now (a null value deletes the key). Keys only in topicB are added, only in topicA removed,
 * in both with different values changed. Values are compared as raw bytes unless a `valueSerde`
 * is given.
 */
export async function diffOutputs<K = Uint8Array, V = Uint8Array>(transport: Transport, options: OutputDiffOptions<K, V>): Promise<OutputDiff<K, V>> {
  for (const [name, value] of [['topicA', options.topicA], ['topicB', options.topicB]] as const) {
    if (typeof value !== 'string' || value.length === 0) throw new StreamsError(StreamsErrorCode.invalidConfig, `${name} must name a topic`);
  }
  const limit = options.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new StreamsError(StreamsErrorCode.invalidConfig, `limit must be a non-negative integer, got ${limit}`);
  for (const [name, value] of [['fromTimeMs', options.fromTimeMs], ['toTimeMs', options.toTimeMs]] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw new StreamsError(StreamsErrorCode.invalidConfig, `${name} must be a non-negative integer of ms, got ${value}`);
  }
  const fromKey = bytesOf(options.fromKey);
  const toKey = bytesOf(options.toKey);
  const inRange = (r: ConsumerRecord<Uint8Array, Uint8Array>): boolean => {
    if (options.fromTimeMs !== undefined && r.timestamp < options.fromTimeMs) return false;
    if (options.toTimeMs !== undefined && r.timestamp >= options.toTimeMs) return false;
    if (fromKey === undefined && toKey === undefined) return true;
    if (r.key === null) return false;
    return (fromKey === undefined || compareBytes(r.key, fromKey) >= 0) && (toKey === undefined || compareBytes(r.key, toKey) <= 0);
  };
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  await new Admin(transport).describeTopics([options.topicA, options.topicB]);
  const [a, b] = [await latestPerKey(transport, options.topicA, inRange, maxKeys), await latestPerKey(transport, options.topicB, inRange, maxKeys)];

  const decodeKey = (key: Uint8Array | null): K | null => (key === null ? null : options.keySerde === undefined ? (key as K) : options.keySerde.deserialize(key));
  const decodeValue = (value: Uint8Array | null): V | null => (value === null ? null : options.valueSerde === undefined ? (value as V) : options.valueSerde.deserialize(value));
  const ids = [...new Set([...a.latest.keys(), ...b.latest.keys()])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const summary = { keysA: a.latest.size, keysB: b.latest.size, added: 0, removed: 0, changed: 0, unchanged: 0, recordsReadA: a.records, recordsReadB: b.records };
  const differences: KeyDifference<K, V>[] = [];
  let truncated = false;
  const list = (difference: KeyDifference<K, V>): void => {
    if (differences.length < limit) differences.push(difference);
    else truncated = true;
  };
  for (const id of ids) {
    const inA = a.latest.get(id);
    const inB = b.latest.get(id);
    if (inA === undefined) {
      summary.added++;
      list({ kind: 'added', key: decodeKey(inB!.key), b: decodeValue(inB!.value) });
    } else if (inB === undefined) {
      summary.removed++;
      list({ kind: 'removed', key: decodeKey(inA.key), a: decodeValue(inA.value) });
    } else {
      const valueA = decodeValue(inA.value);
      const valueB = decodeValue(inB.value);
      const equal = options.valueSerde === undefined ? sameBytes(inA.value!, inB.value!) : deepEqual(valueA, valueB);
      if (equal) summary.unchanged++;
      else {
        summary.changed++;
        list({ kind: 'changed', key: decodeKey(inA.key), a: valueA, b: valueB });
      }
    }
  }
  return { topicA: options.topicA, topicB: options.topicB, summary, differences, truncated };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A key or value for people and JSON: text when it is valid UTF-8 bytes, else `base64:<...>`; decoded values as JSON. */
export function renderDiffValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) {
    try {
      const text = strictUtf8.decode(value);
      // Bytes that decode but hold control characters (a serialized long, say) are not text to print.
      if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return text;
    } catch {
      // Not UTF-8: rendered as bytes below.
    }
    if (value.length <= 32) return `0x${Array.from(value, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
    let binary = '';
    for (const byte of value) binary += String.fromCharCode(byte);
    return `base64:${btoa(binary)}`;
  }
  if (typeof value === 'string') return value;
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The diff with keys and values rendered by `renderDiffValue`, for JSON answers. */
export function diffToJson(diff: OutputDiff<unknown, unknown>): object {
  return {
    topicA: diff.topicA,
    topicB: diff.topicB,
    summary: diff.summary,
    differences: diff.differences.map((d) => ({
      kind: d.kind,
      key: renderDiffValue(d.key),
      ...('a' in d ? { a: renderDiffValue(d.a) } : {}),
      ...('b' in d ? { b: renderDiffValue(d.b) } : {}),
    })),
    truncated: diff.truncated,
  };
}

/** A summary line, then one line per listed difference. */
export function formatOutputDiff(diff: OutputDiff<unknown, unknown>): string {
  const s = diff.summary;
  const lines = [
    `${diff.topicA} -> ${diff.topicB}: ${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.unchanged} unchanged (${s.keysA} keys in ${diff.topicA}, ${s.keysB} in ${diff.topicB})`,
  ];
  for (const d of diff.differences) {
    const key = renderDiffValue(d.key) ?? '(null key)';
    if (d.kind === 'added') lines.push(`+ ${key}: ${renderDiffValue(d.b)}`);
    else if (d.kind === 'removed') lines.push(`- ${key}: ${renderDiffValue(d.a)}`);
    else lines.push(`~ ${key}: ${renderDiffValue(d.a)} -> ${renderDiffValue(d.b)}`);
  }
  if (diff.truncated) lines.push(`(${s.added + s.removed + s.changed - diff.differences.length} more differences not listed)`);
  return lines.join('\n');
}
