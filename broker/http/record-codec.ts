import type { Record as KafkaRecord, RecordHeader } from '../../sdk/record/record.ts';
import { BodyFormat, type BodyFormatValue } from './body-codec.ts';
import { Utf8Arena } from './utf8-arena.ts';
import { delayHeaderOf } from './delay-fields.ts';

/**
 * How records look on the HTTP API.
 *
 * Produce (JSON body): `key` a string (stored as UTF-8) or null; `value` any JSON value (stored as
 * its JSON text), absent or null meaning a Kafka null value (a tombstone); `headers` an object of
 * string values or an array of `{key, value}` (Kafka allows repeated header keys); `partition` an
 * explicit partition; `timestamp` ms since the epoch (default: the broker's clock); `deliverAt`
 * (ms since the epoch) or `delayMs` delays delivery (broker/delay/), written as the record's
 * `rill.deliver.at` or `rill.delay.ms` header; a topic without `rill.delayed.delivery=true` refuses
 * them (422), where a Kafka producer's header would be a plain header delivered at once.
 * Produce (msgpack body): the same, except that `key`, `value` and header values may also be
 * binary, stored byte for byte; a non-binary `value` is stored as its JSON text.
 *
 * Read (JSON response): `key` and header values are UTF-8 strings; `value` is the parsed JSON
 * when the stored bytes are JSON text. Bytes that are not are sent as a string with
 * `valueEncoding: "utf8"` when they are valid UTF-8, or base64 with `valueEncoding: "base64"`
 * (`keyEncoding` and a header's `encoding` likewise). Read (msgpack response): raw binary always.
 */
export interface ProduceRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** The value as JSON for schema validation; undefined for a null value. */
  json: { value: unknown } | undefined;
  headers: RecordHeader[];
  partition: number | undefined;
  timestamp: number | undefined;
  /** The field that asked for delayed delivery (`deliverAt` or `delayMs`), if any. */
  delayField?: 'deliverAt' | 'delayMs';
}

export interface FieldError {
  path: string;
  message: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// Shared by all requests: a chunk is only ever filled forward, so views handed out stay valid, and
// a chunk is freed once the requests holding views into it are done.
const arena = new Utf8Arena();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function bytesField(value: unknown, path: string, errors: FieldError[], arena: Utf8Arena): Uint8Array | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return arena.encode(value);
  if (value instanceof Uint8Array) return value;
  errors.push({ path, message: 'must be a string, binary (msgpack) or null' });
  return null;
}

function parseHeaders(value: unknown, path: string, errors: FieldError[], arena: Utf8Arena): RecordHeader[] {
  if (value === undefined || value === null) return [];
  const headers: RecordHeader[] = [];
  if (Array.isArray(value)) {
    value.forEach((entry: unknown, i) => {
      if (!isPlainObject(entry) || typeof entry['key'] !== 'string') {
        errors.push({ path: `${path}/${i}`, message: 'must be an object with a string "key"' });
        return;
      }
      headers.push({ key: entry['key'], value: bytesField(entry['value'], `${path}/${i}/value`, errors, arena) });
    });
    return headers;
  }
  if (isPlainObject(value)) {
    for (const [key, v] of Object.entries(value)) headers.push({ key, value: bytesField(v, `${path}/${key}`, errors, arena) });
    return headers;
  }
  errors.push({ path, message: 'must be an object of header values or an array of {key, value}' });
  return [];
}

function parseValue(
  value: unknown,
  path: string,
  errors: FieldError[],
  format: BodyFormatValue,
  arena: Utf8Arena,
): Pick<ProduceRecord, 'value' | 'json'> {
  if (value === undefined || value === null) return { value: null, json: undefined };
  if (value instanceof Uint8Array) {
    // Binary values are validated against a schema only if they hold JSON text.
    let json: { value: unknown } | undefined;
    try {
      json = { value: JSON.parse(strictUtf8.decode(value)) };
    } catch {
      json = undefined;
    }
    return { value, json };
  }
  // Only msgpack can nest binary inside a value; a replacer makes JSON.stringify several times slower.
  const text = format === BodyFormat.json ? JSON.stringify(value) : JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? undefined : v));
  if (text === undefined) {
    errors.push({ path, message: 'must be a JSON value' });
    return { value: null, json: undefined };
  }
  return { value: arena.encode(text), json: { value } };
}

/** Checks the shape of a produce body; every problem is reported, each with its JSON pointer. */
export function parseProduceBody(body: unknown, maxRecords: number, format: BodyFormatValue): { records: ProduceRecord[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!isPlainObject(body) || !Array.isArray(body['records'])) {
    return { records: [], errors: [{ path: '', message: 'the body must be an object with a "records" array' }] };
  }
  const input = body['records'] as unknown[];
  if (input.length === 0) errors.push({ path: '/records', message: 'must hold at least one record' });
  if (input.length > maxRecords) {
    return { records: [], errors: [{ path: '/records', message: `holds ${input.length} records; the limit is ${maxRecords}` }] };
  }
  const records: ProduceRecord[] = [];
  input.forEach((entry, i) => {
    const path = `/records/${i}`;
    if (!isPlainObject(entry)) {
      errors.push({ path, message: 'must be an object' });
      return;
    }
    for (const field of Object.keys(entry)) {
      if (!['key', 'value', 'headers', 'partition', 'timestamp', 'deliverAt', 'delayMs'].includes(field)) {
        errors.push({ path: `${path}/${field}`, message: 'is not a record field (key, value, headers, partition, timestamp, deliverAt, delayMs)' });
      }
    }
    const partition = entry['partition'];
    if (partition !== undefined && partition !== null && !(Number.isInteger(partition) && (partition as number) >= 0)) {
      errors.push({ path: `${path}/partition`, message: 'must be a non-negative integer' });
    }
    const timestamp = entry['timestamp'];
    if (timestamp !== undefined && timestamp !== null && !(Number.isSafeInteger(timestamp) && (timestamp as number) >= 0)) {
      errors.push({ path: `${path}/timestamp`, message: 'must be a non-negative integer (ms since the epoch)' });
    }
    const headers = parseHeaders(entry['headers'], `${path}/headers`, errors, arena);
    const delay = delayHeaderOf(entry['deliverAt'], entry['delayMs'], path, errors);
    if (delay !== undefined) headers.push(delay.header);
    records.push({
      ...(delay === undefined ? {} : { delayField: delay.field }),
      key: bytesField(entry['key'], `${path}/key`, errors, arena),
      ...parseValue(entry['value'], `${path}/value`, errors, format, arena),
      headers,
      partition: typeof partition === 'number' ? partition : undefined,
      timestamp: typeof timestamp === 'number' ? timestamp : undefined,
    });
  });
  return { records, errors };
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function textOrBase64(bytes: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  try {
    return { text: strictUtf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: base64(bytes), encoding: 'base64' };
  }
}

/** One record as a read response carries it (see the format notes above). */
export function recordForResponse(partition: number, record: KafkaRecord, format: BodyFormatValue): Record<string, unknown> {
  if (format === BodyFormat.msgpack) {
    return {
      partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key,
      value: record.value,
      headers: record.headers.map((h) => ({ key: h.key, value: h.value })),
    };
  }
  const out: Record<string, unknown> = { partition, offset: record.offset, timestamp: record.timestamp, key: null, value: null };
  if (record.key !== null) {
    const key = textOrBase64(record.key);
    out['key'] = key.text;
    if (key.encoding === 'base64') out['keyEncoding'] = 'base64';
  }
  if (record.value !== null) {
    const value = textOrBase64(record.value);
    let parsed = false;
    if (value.encoding === 'utf8') {
      try {
        out['value'] = JSON.parse(value.text);
        parsed = true;
      } catch {
        parsed = false;
      }
    }
    if (!parsed) {
      out['value'] = value.text;
      out['valueEncoding'] = value.encoding;
    }
  }
  out['headers'] = record.headers.map((h) => {
    if (h.value === null) return { key: h.key, value: null };
    const v = textOrBase64(h.value);
    return v.encoding === 'utf8' ? { key: h.key, value: v.text } : { key: h.key, value: v.text, encoding: 'base64' };
  });
  return out;
}
