import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_VERSIONS, parseVersions, type VersionRange } from './versions.ts';

export const PRIMITIVE_TYPES = [
  'bool', 'int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'uuid', 'string', 'bytes', 'records',
] as const;
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number];

/** A field's type: a primitive, a struct (by its message-local name), or an array of either. */
export type FieldType =
  | { readonly kind: 'primitive'; readonly name: PrimitiveType }
  | { readonly kind: 'struct'; readonly name: string }
  | { readonly kind: 'array'; readonly element: FieldType };

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly versions: VersionRange;
  readonly nullableVersions: VersionRange;
  readonly taggedVersions: VersionRange;
  readonly tag: number | null;
  readonly ignorable: boolean;
  /** The JSON `default`, as written there; undefined when absent. */
  readonly defaultValue: string | undefined;
  /** A field-level override of the message's flexible versions (only the request header's ClientId). */
  readonly flexibleVersions: VersionRange | null;
  readonly fields: readonly FieldSpec[] | null;
}

export interface StructSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}

export interface MessageSpec {
  readonly name: string;
  readonly kind: 'request' | 'response' | 'header' | 'data';
  readonly apiKey: number | null;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  readonly fields: readonly FieldSpec[];
  readonly commonStructs: readonly StructSpec[];
}

/** Removes `//` comments (outside string literals): Kafka's files are JSON with comments. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

function parseType(text: string): FieldType {
  if (text.startsWith('[]')) return { kind: 'array', element: parseType(text.slice(2)) };
  if ((PRIMITIVE_TYPES as readonly string[]).includes(text)) return { kind: 'primitive', name: text as PrimitiveType };
  if (/^[A-Z][A-Za-z0-9]*$/.test(text)) return { kind: 'struct', name: text };
  throw new Error(`unsupported field type ${JSON.stringify(text)}`);
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  ignorable?: boolean;
  default?: string | number | boolean;
  flexibleVersions?: string;
  fields?: RawField[];
}

interface RawMessage {
  name: string;
  type: string;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  fields?: RawField[];
  commonStructs?: { name: string; fields: RawField[] }[];
}

function toField(raw: RawField, context: string): FieldSpec {
  if (typeof raw.name !== 'string' || typeof raw.type !== 'string') throw new Error(`${context}: field without name or type`);
  const versions = parseVersions(raw.versions);
  return {
    name: raw.name,
    type: parseType(raw.type),
    versions,
    nullableVersions: raw.nullableVersions === undefined ? NO_VERSIONS : parseVersions(raw.nullableVersions),
    taggedVersions: raw.taggedVersions === undefined ? NO_VERSIONS : parseVersions(raw.taggedVersions),
    tag: raw.tag ?? null,
    ignorable: raw.ignorable === true,
    defaultValue: raw.default === undefined ? undefined : String(raw.default),
    flexibleVersions: raw.flexibleVersions === undefined ? null : parseVersions(raw.flexibleVersions),
    fields: raw.fields === undefined ? null : raw.fields.map((f) => toField(f, `${context}.${raw.name}`)),
  };
}

export function parseMessage(text: string, fileName: string): MessageSpec {
  const raw = JSON.parse(stripComments(text)) as RawMessage;
  const kinds = ['request', 'response', 'header', 'data'] as const;
  const kind = kinds.find((k) => k === raw.type);
  if (kind === undefined) throw new Error(`${fileName}: unknown message type ${raw.type}`);
  return {
    name: raw.name,
    kind,
    apiKey: raw.apiKey ?? null,
    validVersions: parseVersions(raw.validVersions),
    flexibleVersions: parseVersions(raw.flexibleVersions),
    fields: (raw.fields ?? []).map((f) => toField(f, raw.name)),
    commonStructs: (raw.commonStructs ?? []).map((s) => ({
      name: s.name,
      fields: s.fields.map((f) => toField(f, `${raw.name}.${s.name}`)),
    })),
  };
}

export function loadMessages(dir: string): MessageSpec[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseMessage(readFileSync(join(dir, f), 'utf8'), f));
}
