import { existsSync } from 'node:fs';
import type { StartOptionDefinition } from './start-option-definitions.ts';

/** What is wrong with a setting's text, as the end of a sentence ("must be ..., got "x""), or undefined when it is fine. */
export function checkStartText(definition: StartOptionDefinition, text: string): string | undefined {
  switch (definition.type) {
    case 'string':
      return text.trim() === '' ? 'must not be empty' : undefined;
    case 'file':
      // Relative paths are relative to the working directory, in the config file too.
      if (text.trim() === '') return 'must not be empty';
      return existsSync(text) ? undefined : `names a file that does not exist: "${text}"`;
    case 'port': {
      const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      return Number.isInteger(n) && n <= 65_535 ? undefined : `must be a port number from 0 to 65535, got "${text}"`;
    }
    case 'milliseconds':
      return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? undefined : `must be a whole number of milliseconds, got "${text}"`;
    case 'count':
      return /^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text)) ? undefined : `must be a whole number from 1 up, got "${text}"`;
    case 'choice':
      return definition.choices!.includes(text) ? undefined : `must be one of ${definition.choices!.join(', ')}, got "${text}"`;
    case 'list': {
      const items = text.split(',').map((s) => s.trim());
      if (items.some((item) => item === '')) return `must be a comma-separated list without empty items, got "${text}"`;
      const choices = definition.choices;
      const bad = choices === undefined ? undefined : items.find((item) => !choices.includes(item.toUpperCase()));
      return bad === undefined ? undefined : `has "${bad}", not one of ${choices!.join(', ')}`;
    }
    case 'boolean':
      return /^(true|false|1|0)$/.test(text) ? undefined : `must be true or false, got "${text}"`;
  }
}

/** A boolean setting written as text (an environment variable): true/1 or false/0. */
export function booleanOfText(text: string): boolean {
  return text === 'true' || text === '1';
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${JSON.stringify(value)} (a ${typeof value})`;
}

/**
 * A value from the config file in the shape flags have (text, or true for a boolean that is on),
 * or what is wrong with its type or value.
 */
export function startValueOfFile(definition: StartOptionDefinition, value: unknown): { value: string | boolean | undefined } | { problem: string } {
  const expected = {
    string: 'a string',
    file: 'a file path (a string)',
    port: 'a port number',
    milliseconds: 'a whole number of milliseconds',
    count: 'a whole number from 1 up',
    choice: `one of ${definition.choices?.join(', ')}`,
    list: 'a list of strings or a comma-separated string',
    boolean: 'true or false',
  }[definition.type];
  let text: string;
  if (definition.type === 'boolean') {
    if (typeof value !== 'boolean') return { problem: `must be ${expected}, got ${describeValue(value)}` };
    return { value: value ? true : undefined };
  } else if (definition.type === 'port' || definition.type === 'milliseconds' || definition.type === 'count') {
    if (typeof value !== 'number' && typeof value !== 'string') return { problem: `must be ${expected}, got ${describeValue(value)}` };
    text = String(value);
  } else if (definition.type === 'list' && Array.isArray(value)) {
    if (!value.every((item) => typeof item === 'string')) return { problem: `must be ${expected}, got a list with a non-string item` };
    text = value.join(',');
  } else {
    if (typeof value !== 'string') return { problem: `must be ${expected}, got ${describeValue(value)}` };
    text = value;
  }
  const problem = checkStartText(definition, text);
  return problem === undefined ? { value: text } : { problem };
}
