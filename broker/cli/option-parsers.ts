import { InvalidArgumentError } from 'commander';

/**
 * Commander argument parsers for client commands. A bad value is commander's InvalidArgumentError:
 * one line naming the option, exit code 2.
 */
export function nonNegativeInteger(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError('it must be a non-negative integer.');
  return Number(text);
}

export function positiveInteger(text: string): number {
  const n = nonNegativeInteger(text);
  if (n === 0) throw new InvalidArgumentError('it must be a positive integer.');
  return n;
}

/** Repeatable `key=value` (`--config retention.ms=1000 --config cleanup.policy=compact`), collected in order. */
export function keyValue(text: string, previous: readonly [string, string][] = []): [string, string][] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`it must be key=value, got "${text}".`);
  return [...previous, [text.slice(0, eq), text.slice(eq + 1)]];
}

/** A repeatable option's values, collected in order. */
export function repeated(text: string, previous: readonly string[] = []): string[] {
  return [...previous, text];
}
