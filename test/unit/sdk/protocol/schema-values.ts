import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/** The prose-free schema the generator emitted beside the codecs (see generator/emit-schema.ts). */
export interface SchemaField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  tag?: number;
  taggedVersions?: string;
  default?: string;
  ignorable?: boolean;
  flexibleVersions?: string;
  fields?: SchemaField[];
}

export interface SchemaMessage {
  name: string;
  kind: string;
  apiKey: number | null;
  validVersions: string;
  flexibleVersions: string;
  fields: SchemaField[];
  commonStructs: { name: string; fields: SchemaField[] }[];
}

export const SCHEMAS: SchemaMessage[] = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'message-schemas.json'), 'utf8'),
) as SchemaMessage[];

export function schema(name: string): SchemaMessage {
  const found = SCHEMAS.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no schema ${name}`);
  return found;
}

export function inVersions(range: string | undefined, v: number): boolean {
  if (range === undefined || range === 'none') return false;
  const plus = /^(\d+)\+$/.exec(range);
  if (plus) return v >= Number(plus[1]);
  const span = /^(\d+)-(\d+)$/.exec(range);
  if (span) return v >= Number(span[1]) && v <= Number(span[2]);
  return v === Number(range);
}

export function versionList(range: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!m) throw new Error(`bad range ${range}`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
const elementType = (type: string) => (type.startsWith('[]') ? type.slice(2) : type);
const isStructType = (type: string) => /^[A-Z]/.test(elementType(type));

function findStruct(fields: SchemaField[], name: string): SchemaField[] | undefined {
  for (const f of fields) {
    if (f.fields !== undefined) {
      if (elementType(f.type) === name) return f.fields;
      const nested = findStruct(f.fields, name);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}

function structFields(msg: SchemaMessage, field: SchemaField): SchemaField[] {
  if (field.fields !== undefined) return field.fields;
  const name = elementType(field.type);
  const found = findStruct(msg.fields, name) ?? msg.commonStructs.find((s) => s.name === name)?.fields;
  if (found === undefined) throw new Error(`${msg.name}: struct ${name} not found`);
  return found;
}

function isNullableType(field: SchemaField): boolean {
  return field.type === 'records' || field.nullableVersions !== undefined;
}

/** Kafka's default for a field (the JSON `default`, else zero/empty), computed independently of the generator. */
export function defaultOf(msg: SchemaMessage, field: SchemaField): unknown {
  const d = field.default;
  if (field.type.startsWith('[]')) return d === 'null' ? null : [];
  if (isStructType(field.type)) {
    if (d === 'null') return null;
    return Object.fromEntries(structFields(msg, field).map((f) => [camel(f.name), defaultOf(msg, f)]));
  }
  switch (field.type) {
    case 'bool':
      return d === 'true';
    case 'int64':
      return BigInt(d ?? '0');
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
    case 'string':
      return d === 'null' ? null : (d ?? '');
    case 'bytes':
      return d === 'null' ? null : new Uint8Array(0);
    case 'records':
      return null;
    default:
      return d === undefined ? 0 : Number(d);
  }
}

/** Whether the field is carried in version `v` (tagged fields only in their tagged versions). */
export function isPresent(msg: SchemaMessage, field: SchemaField, v: number): boolean {
  if (!inVersions(field.versions, v)) return false;
  if (field.tag !== undefined) return inVersions(field.taggedVersions, v) && inVersions(msg.flexibleVersions, v);
  return true;
}

/** `value` as version `v` can carry it: fields the version lacks are reset to their defaults. */
export function projectToVersion(msg: SchemaMessage, fields: SchemaField[], value: Record<string, unknown>, v: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const key = camel(f.name);
    const x = value[key];
    if (!isPresent(msg, f, v) || x === undefined) out[key] = defaultOf(msg, f);
    else if (isStructType(f.type) && x !== null) {
      const sub = structFields(msg, f);
      out[key] = Array.isArray(x)
        ? x.map((e) => projectToVersion(msg, sub, e as Record<string, unknown>, v))
        : projectToVersion(msg, sub, x as Record<string, unknown>, v);
    } else out[key] = x;
  }
  return out;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
});

function primitiveArb(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64':
      return fc.double();
    case 'uuid':
      return uuidArb;
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 12 });
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 });
    default:
      throw new Error(`unknown type ${type}`);
  }
}

/** Random values valid for version `v`: fields absent in `v` hold their defaults. */
export function arbitraryStruct(msg: SchemaMessage, fields: SchemaField[], v: number): fc.Arbitrary<Record<string, unknown>> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    const key = camel(f.name);
    if (!isPresent(msg, f, v)) {
      const d = defaultOf(msg, f);
      shape[key] = fc.constant(d);
      continue;
    }
    const element = elementType(f.type);
    const one: fc.Arbitrary<unknown> = isStructType(f.type)
      ? fc.constant(null).chain(() => arbitraryStruct(msg, structFields(msg, f), v))
      : primitiveArb(element);
    let arb = f.type.startsWith('[]') ? fc.array(one, { maxLength: 3 }) : one;
    if (isNullableType(f) && inVersions(f.nullableVersions, v)) arb = fc.option(arb, { nil: null });
    shape[key] = arb;
  }
  return fc.record(shape) as fc.Arbitrary<Record<string, unknown>>;
}

/** Completes a partial value in the message's shape: every missing field gets its default. Unknown keys throw. */
export function fill(msg: SchemaMessage, fields: SchemaField[], partial: Record<string, unknown>): Record<string, unknown> {
  const known = new Set(fields.map((f) => camel(f.name)));
  for (const key of Object.keys(partial)) if (!known.has(key)) throw new Error(`${msg.name}: unknown field ${key}`);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const key = camel(f.name);
    const x = partial[key];
    if (x === undefined) out[key] = defaultOf(msg, f);
    else if (isStructType(f.type) && x !== null) {
      const sub = structFields(msg, f);
      out[key] = Array.isArray(x)
        ? x.map((e) => fill(msg, sub, e as Record<string, unknown>))
        : fill(msg, sub, x as Record<string, unknown>);
    } else out[key] = x;
  }
  return out;
}

const sameValue = (a: unknown, b: unknown) =>
  JSON.stringify(a, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? hex(x) : x)) ===
  JSON.stringify(b, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? hex(x) : x));

const leafOf = (x: unknown): string =>
  x instanceof Uint8Array ? `bytes:${hex(x)}` : String(x);

/** The primitive values of the fields version `v` carries (records excluded), as strings. */
export function presentLeaves(msg: SchemaMessage, fields: SchemaField[], value: Record<string, unknown>, v: number): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (!isPresent(msg, f, v) || f.type === 'records') continue;
    const x = value[camel(f.name)];
    if (x === null || x === undefined) continue;
    // A tagged field holding its default is not on the wire at all.
    if (f.tag !== undefined && sameValue(x, defaultOf(msg, f))) continue;
    const items = Array.isArray(x) ? x : [x];
    for (const item of items) {
      if (isStructType(f.type)) out.push(...presentLeaves(msg, structFields(msg, f), item as Record<string, unknown>, v));
      else out.push(leafOf(item));
    }
  }
  return out;
}

/** Every primitive reachable in a third-party object (Buffers as bytes, int64 wrappers via toString). */
export function anyLeaves(x: unknown, out: string[] = []): string[] {
  if (x === null || x === undefined || typeof x === 'function') return out;
  if (x instanceof Uint8Array) out.push(leafOf(x));
  else if (Array.isArray(x)) for (const e of x) anyLeaves(e, out);
  else if (x instanceof Map) for (const [k, e] of x) anyLeaves([k, e], out);
  else if (typeof x === 'object') {
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null && typeof (x as { toString: unknown }).toString === 'function' && 'high' in (x as object)) {
      out.push(String(x));
    } else for (const e of Object.values(x)) anyLeaves(e, out);
  } else out.push(String(x));
  return out;
}

/** The values in `needles` (a multiset) that `haystack` lacks. */
export function missingLeaves(needles: string[], haystack: string[], allowed: readonly string[] = []): string[] {
  const counts = new Map<string, number>();
  for (const h of haystack) counts.set(h, (counts.get(h) ?? 0) + 1);
  const missing: string[] = [];
  for (const n of needles) {
    const c = counts.get(n) ?? 0;
    if (c > 0) counts.set(n, c - 1);
    else if (!allowed.includes(n)) missing.push(n);
  }
  return missing;
}
