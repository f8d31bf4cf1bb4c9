import type { FieldSpec, FieldType, MessageSpec } from './schema.ts';
import { formatVersions, isEmpty } from './versions.ts';

function typeText(t: FieldType): string {
  if (t.kind === 'array') return `[]${typeText(t.element)}`;
  return t.name;
}

function field(f: FieldSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: f.name, type: typeText(f.type), versions: formatVersions(f.versions) };
  if (!isEmpty(f.nullableVersions)) out['nullableVersions'] = formatVersions(f.nullableVersions);
  if (f.tag !== null) {
    out['tag'] = f.tag;
    out['taggedVersions'] = formatVersions(f.taggedVersions);
  }
  if (f.defaultValue !== undefined) out['default'] = f.defaultValue;
  if (f.ignorable) out['ignorable'] = true;
  if (f.flexibleVersions !== null) out['flexibleVersions'] = formatVersions(f.flexibleVersions);
  if (f.fields !== null) out['fields'] = f.fields.map(field);
  return out;
}

/**
 * The structural part of every generated message (no prose), as JSON. Tests derive random valid
 * messages from it, so property tests exercise exactly the schema the codecs were generated from.
 */
export function emitSchemaJson(messages: readonly MessageSpec[]): string {
  const out = messages.map((m) => ({
    name: m.name,
    kind: m.kind,
    apiKey: m.apiKey,
    validVersions: formatVersions(m.validVersions),
    flexibleVersions: formatVersions(m.flexibleVersions),
    fields: m.fields.map(field),
    commonStructs: m.commonStructs.map((s) => ({ name: s.name, fields: s.fields.map(field) })),
  }));
  return `${JSON.stringify(out)}\n`;
}
