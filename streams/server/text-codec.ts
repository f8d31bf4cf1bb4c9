import { longSerde } from '../../sdk/serde/basic-serdes.ts';
import { isTextSerde, type Serde } from '../../sdk/serde/serde.ts';
import { HttpProblem } from '../../broker/http/problem.ts';

/**
 * Keys in URLs and values in bodies, as the store's serdes read and write them:
 * - a text serde (`stringSerde`, `jsonSerde`) reads a key from its text form: `stringSerde` the
 *   text as it is, `jsonSerde` the text as JSON (`/keys/%7B%22id%22%3A1%7D` is `{"id":1}`);
 * - `longSerde` reads a decimal integer;
 * - any other key serde reads no text: such a store is queried from the SDK.
 * Values come out as JSON: strings, numbers and JSON objects as they are, bytes as base64 with
 * `"valueEncoding": "base64"` beside them.
 */
export function keyFromText(serde: Serde<unknown>, text: string, store: string, what = 'key'): unknown {
  if (isTextSerde(serde)) {
    try {
      return serde.fromText(text);
    } catch (error) {
      throw new HttpProblem('badRequest', `the ${what} "${text}" cannot be read by the key serde of store "${store}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (serde === longSerde) {
    if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new HttpProblem('badRequest', `the ${what} "${text}" of store "${store}" must be an integer (its keys are longs)`);
    return Number(text);
  }
  throw new HttpProblem('badRequest', `the keys of store "${store}" use a serde that reads no text (only string, JSON and long keys are read from URLs); query it from the SDK`);
}

/** A key or value as JSON: bytes as base64 (`encoding: 'base64'`), the rest as it is. */
export function jsonOf(value: unknown): { json: unknown; encoding?: 'base64' } {
  if (value instanceof Uint8Array) return { json: base64Of(value), encoding: 'base64' };
  return { json: value };
}

function base64Of(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/** An entry's key and value (and the rest of its fields) as JSON. */
export function entryJson<E extends { readonly key: unknown; readonly value: unknown }>(entry: E): Record<string, unknown> {
  const key = jsonOf(entry.key);
  const value = jsonOf(entry.value);
  return {
    ...entry,
    key: key.json,
    value: value.json,
    ...(key.encoding === undefined ? {} : { keyEncoding: key.encoding }),
    ...(value.encoding === undefined ? {} : { valueEncoding: value.encoding }),
  };
}
