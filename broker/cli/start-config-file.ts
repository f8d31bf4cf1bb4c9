import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { START_OPTIONS, type StartOptionDefinition } from './start-option-definitions.ts';
import { startValueOfFile } from './start-option-values.ts';

/**
 * `rill start --config FILE`: YAML or JSON (YAML is a superset of JSON, so one parser reads both),
 * one flat mapping whose keys are the flag names:
 *
 *   data-dir: ./data
 *   kafka-port: 9092
 *   kafka-sasl-mechanisms: [SCRAM-SHA-256, SCRAM-SHA-512]
 *   authorizer: true
 *
 * Every bad key is reported, not only the first: unknown keys (with the nearest known one), values
 * of the wrong type, values out of range.
 */
export interface StartConfigFile {
  /** The valid settings, in the shape flags have. */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** One sentence per bad key, each naming the file and the key. */
  readonly problems: readonly string[];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key an unknown one was probably meant to be: the same once camelCase and underscores become dashes, or a few edits away. */
export function nearestStartKey(key: string): string | undefined {
  const normalized = key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const { name } of START_OPTIONS) {
    const distance = editDistance(normalized, name);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(key.length / 4)) ? best.name : undefined;
}

function definitionOf(key: string): StartOptionDefinition | undefined {
  return START_OPTIONS.find((d) => d.name === key);
}

/** Reads and checks a config file; an unreadable or unparsable file is one problem. */
export function readStartConfigFile(path: string): StartConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { values: {}, problems: [`cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`] };
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return { values: {}, problems: [`${path} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`] };
  }
  if (document === null || document === undefined) return { values: {}, problems: [] };
  if (typeof document !== 'object' || Array.isArray(document)) return { values: {}, problems: [`${path} must hold a mapping of settings (key: value), not ${Array.isArray(document) ? 'a list' : 'a single value'}`] };
  const values: Record<string, string | boolean | undefined> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    const definition = definitionOf(key);
    if (definition === undefined) {
      const nearest = nearestStartKey(key);
      problems.push(`${path}: unknown key "${key}"${nearest === undefined ? '' : ` (did you mean ${nearest}?)`}`);
      continue;
    }
    const checked = startValueOfFile(definition, value);
    if ('problem' in checked) problems.push(`${path}: ${key} ${checked.problem}`);
    else values[key] = checked.value;
  }
  return { values, problems };
}
