import type { RecordHeader } from '../../sdk/record/record.ts';

/** One record read from an input line, ready for either transport. */
export interface InputRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  partition: number | undefined;
  timestamp: number | undefined;
}

export const PRODUCE_FORMATS = ['text', 'json'] as const;
export type ProduceFormat = (typeof PRODUCE_FORMATS)[number];

export interface LineFormat {
  format: ProduceFormat;
  /** JSON lines are `{key, value, headers, partition, timestamp}` envelopes (see parseEnvelope). */
  envelope: boolean;
  /** Text lines are key<SEP>value. */
  keySeparator: string | undefined;
  /** Defaults for every record; a line's own key, headers and partition take precedence. */
  key: Uint8Array | null;
  headers: readonly RecordHeader[];
  partition: number | undefined;
}

/** A line that cannot become a record; `rill produce` names the line and stops there. */
export class InputLineError extends Error {
  override readonly name = 'InputLineError';
}

const utf8 = new TextEncoder();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromBase64(text: string, field: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new InputLineError(`"${field}" is not base64`);
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function encoded(value: unknown, encoding: unknown, field: string): Uint8Array | null {
  if (value === undefined || value === null) return null;
  if (encoding === undefined) {
    if (field !== 'value' && typeof value !== 'string') throw new InputLineError(`"${field}" must be a string or null`);
    // A value without an encoding is JSON, stored as its JSON text (as the HTTP API stores it).
    return utf8.encode(field === 'value' ? JSON.stringify(value) : (value as string));
  }
  if (typeof value !== 'string') throw new InputLineError(`"${field}" must be a string when "${field}Encoding" is given`);
  if (encoding === 'utf8') return utf8.encode(value);
  if (encoding === 'base64') return fromBase64(value, field);
  throw new InputLineError(`"${field}Encoding" must be "utf8" or "base64"`);
}

function headersOf(value: unknown): RecordHeader[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.map((h: unknown, i) => {
      if (!isObject(h) || typeof h['key'] !== 'string') throw new InputLineError(`"headers"[${i}] must be an object with a string "key"`);
      return { key: h['key'], value: encodedHeader(h['value'], h['encoding'], h['key']) };
    });
  }
  if (isObject(value)) return Object.entries(value).map(([key, v]) => ({ key, value: encodedHeader(v, undefined, key) }));
  throw new InputLineError('"headers" must be an object of strings or an array of {key, value}');
}

function badHeader(key: string): never {
  throw new InputLineError(`header "${key}" must be a string or null`);
}

function encodedHeader(value: unknown, encoding: unknown, key: string): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return badHeader(key);
  if (encoding === undefined || encoding === 'utf8') return utf8.encode(value);
  if (encoding === 'base64') return fromBase64(value, `header ${key}`);
  throw new InputLineError(`header "${key}" has an encoding other than "utf8" or "base64"`);
}

const ENVELOPE_FIELDS = new Set(['key', 'keyEncoding', 'value', 'valueEncoding', 'headers', 'partition', 'timestamp', 'topic', 'offset']);

/**
 * A `--json-envelope` line: `{"key": "k", "value": <any JSON>, "headers": {"h": "v"}, "partition": 0,
 * "timestamp": 1700000000000}`, every field optional. `value` is stored as its JSON text, as the HTTP
 * API stores it; with `"valueEncoding": "utf8"` or `"base64"` it is a string stored as that text or
 * those bytes (`keyEncoding` likewise; a header's `encoding` in the array form). `headers` is an
 * object of strings or an array of `{key, value, encoding}` (repeated keys). `topic` and `offset`
 * are ignored, so the lines `rill consume --format json` prints can be produced again unchanged.
 */
export function parseEnvelope(json: unknown): InputRecord {
  if (!isObject(json)) throw new InputLineError('a --json-envelope line must be a JSON object');
  for (const field of Object.keys(json)) if (!ENVELOPE_FIELDS.has(field)) throw new InputLineError(`"${field}" is not an envelope field (key, value, headers, partition, timestamp)`);
  const partition = json['partition'];
  if (partition !== undefined && partition !== null && !(Number.isInteger(partition) && (partition as number) >= 0)) throw new InputLineError('"partition" must be a non-negative integer');
  const timestamp = json['timestamp'];
  if (timestamp !== undefined && timestamp !== null && !(Number.isSafeInteger(timestamp) && (timestamp as number) >= 0)) throw new InputLineError('"timestamp" must be ms since the epoch');
  return {
    key: encoded(json['key'], json['keyEncoding'], 'key'),
    value: encoded(json['value'], json['valueEncoding'], 'value'),
    headers: headersOf(json['headers']),
    partition: typeof partition === 'number' ? partition : undefined,
    timestamp: typeof timestamp === 'number' ? timestamp : undefined,
  };
}

/**
 * The record for one input line, or undefined for a line that holds none (a blank line in the JSON
 * formats). Text lines are the value's UTF-8 (an empty line is an empty value); JSON lines must be
 * valid JSON, stored as written; envelopes as parseEnvelope says.
 */
export function parseLine(line: string, format: LineFormat): InputRecord | undefined {
  const withDefaults = (r: Partial<InputRecord> & Pick<InputRecord, 'value'>): InputRecord => ({
    key: r.key !== undefined && r.key !== null ? r.key : format.key,
    value: r.value,
    headers: [...format.headers, ...(r.headers ?? [])],
    partition: r.partition ?? format.partition,
    timestamp: r.timestamp,
  });
  if (format.format === 'text') {
    if (format.keySeparator === undefined) return withDefaults({ value: utf8.encode(line) });
    const at = line.indexOf(format.keySeparator);
    if (at < 0) throw new InputLineError(`no key separator "${format.keySeparator}" in the line`);
    return withDefaults({ key: utf8.encode(line.slice(0, at)), value: utf8.encode(line.slice(at + format.keySeparator.length)) });
  }
  const text = line.trim();
  if (text === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputLineError(`not valid JSON (${(error as Error).message})`);
  }
  if (!format.envelope) return withDefaults({ value: utf8.encode(text) });
  return withDefaults(parseEnvelope(json));
}
