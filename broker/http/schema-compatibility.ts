/**
 * Backward compatibility between two JSON Schemas: a new version is backward compatible when every
 * value the old version accepted is still accepted, so producers written against the old schema
 * keep working. Deciding that exactly is intractable for full JSON Schema, so it is approximated
 * by rules that are sufficient, applied recursively to `properties` and `items`:
 *
 * - `type`: the new schema's types include every old type ("integer" is included in "number");
 *   adding `type` where the old schema had none narrows it.
 * - `enum` / `const`: the new values include every old value; adding one where the old schema had
 *   none narrows it.
 * - `required`: no new required properties.
 * - `properties`: none removed (a removed property's old values may now hit
 *   `additionalProperties`); new optional properties may be added.
 * - `additionalProperties`: may not become `false`, and a schema for it must stay compatible.
 * - bounds (`minimum`, `maximum`, `exclusive*`, `minLength`, `maxLength`, `minItems`, `maxItems`,
 *   `minProperties`, `maxProperties`) may only loosen or go away; `pattern`, `format` and
 *   `multipleOf` may only stay the same or go away.
 * - any other keyword (`anyOf`, `oneOf`, `allOf`, `not`, `$ref`, `if`, ...) must be unchanged or
 *   removed, since the rules cannot prove a change safe.
 *
 * Returns one message per violation, each with the JSON pointer of the schema location.
 */
export function backwardCompatibilityErrors(oldSchema: unknown, newSchema: unknown, path = ''): string[] {
  if (newSchema === true || isEmptyObject(newSchema) || oldSchema === false) return [];
  if (newSchema === false) return [`${path || '/'}: the new schema rejects everything`];
  if (!isObject(oldSchema) || !isObject(newSchema)) {
    return oldSchema === true || isEmptyObject(oldSchema) ? [`${path || '/'}: the old schema accepted anything; the new one constrains it`] : [];
  }
  const errors: string[] = [];
  const at = (keyword: string): string => `${path}/${keyword}`;

  const oldTypes = typeSet(oldSchema['type']);
  const newTypes = typeSet(newSchema['type']);
  if (newTypes !== undefined) {
    if (oldTypes === undefined) errors.push(`${at('type')}: added a type constraint where there was none`);
    else {
      for (const t of oldTypes) {
        if (!newTypes.has(t) && !(t === 'integer' && newTypes.has('number'))) errors.push(`${at('type')}: no longer accepts "${t}"`);
      }
    }
  }

  const oldValues = allowedValues(oldSchema);
  const newValues = allowedValues(newSchema);
  if (newValues !== undefined) {
    if (oldValues === undefined) errors.push(`${at('enum')}: added an enum/const where there was none`);
    else {
      for (const v of oldValues) {
        if (!newValues.some((n) => deepEqual(n, v))) errors.push(`${at('enum')}: no longer accepts ${JSON.stringify(v)}`);
      }
    }
  }

  const oldRequired = new Set(stringArray(oldSchema['required']));
  for (const name of stringArray(newSchema['required'])) {
    if (!oldRequired.has(name)) errors.push(`${at('required')}: "${name}" is newly required`);
  }

  const oldProps = isObject(oldSchema['properties']) ? oldSchema['properties'] : {};
  const newProps = isObject(newSchema['properties']) ? newSchema['properties'] : {};
  for (const [name, schema] of Object.entries(oldProps)) {
    if (!(name in newProps)) errors.push(`${at('properties')}/${name}: property removed`);
    else errors.push(...backwardCompatibilityErrors(schema, newProps[name], `${at('properties')}/${name}`));
  }

  const oldAdditional = oldSchema['additionalProperties'];
  const newAdditional = newSchema['additionalProperties'];
  if (newAdditional !== undefined && !deepEqual(oldAdditional, newAdditional)) {
    errors.push(...backwardCompatibilityErrors(oldAdditional ?? true, newAdditional, at('additionalProperties')));
  }

  if (newSchema['items'] !== undefined) {
    errors.push(...backwardCompatibilityErrors(oldSchema['items'] ?? true, newSchema['items'], at('items')));
  }

  for (const keyword of LOWER_BOUNDS) {
    const n = newSchema[keyword];
    const o = oldSchema[keyword];
    if (typeof n === 'number' && !(typeof o === 'number' && n <= o)) errors.push(`${at(keyword)}: raised or added (${String(o)} → ${n})`);
  }
  for (const keyword of UPPER_BOUNDS) {
    const n = newSchema[keyword];
    const o = oldSchema[keyword];
    if (typeof n === 'number' && !(typeof o === 'number' && n >= o)) errors.push(`${at(keyword)}: lowered or added (${String(o)} → ${n})`);
  }

  for (const [keyword, value] of Object.entries(newSchema)) {
    if (HANDLED.has(keyword) || ANNOTATIONS.has(keyword)) continue;
    if (!deepEqual(oldSchema[keyword], value)) errors.push(`${at(keyword)}: changed or added, which cannot be proven backward compatible`);
  }
  return errors;
}

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;
const HANDLED = new Set<string>([
  'type', 'enum', 'const', 'required', 'properties', 'additionalProperties', 'items', ...LOWER_BOUNDS, ...UPPER_BOUNDS,
]);
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmptyObject(value: unknown): boolean {
  return isObject(value) && Object.keys(value).every((k) => ANNOTATIONS.has(k));
}

function typeSet(type: unknown): Set<string> | undefined {
  if (typeof type === 'string') return new Set([type]);
  if (Array.isArray(type)) return new Set(type.filter((t): t is string => typeof t === 'string'));
  return undefined;
}

function allowedValues(schema: Record<string, unknown>): unknown[] | undefined {
  if ('const' in schema) return [schema['const']];
  return Array.isArray(schema['enum']) ? schema['enum'] : undefined;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
