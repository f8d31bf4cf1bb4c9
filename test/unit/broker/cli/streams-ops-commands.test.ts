import { describe, expect, it } from 'vitest';
import { parseDuration, parseTime } from '../../../../broker/cli/cli-values.ts';
import { UsageError } from '../../../../broker/cli/parse-start-options.ts';
import { runCli } from '../../../../broker/cli/run-cli.ts';

/** The one line `rill <args>` prints on stderr, and its exit code, run in this process; nothing connects. */
async function usageError(args: string[]): Promise<string> {
  const err: string[] = [];
  const code = await runCli(args, { out: () => undefined, err: (line) => err.push(line) }, {});
  expect(code, err.join('\n')).toBe(2);
  expect(err).toHaveLength(1);
  return err[0]!.replace(/^rill: /, '').replace(/ \(see rill [a-z ]+ --help\)$/, '');
}

describe('rill streams / rill replay flags', () => {
  it('reads durations and times as ISO 8601 or short forms', () => {
    expect(parseDuration('by-duration', 'PT1H30M')).toBe(5_400_000);
    expect(parseDuration('by-duration', 'P1DT2H')).toBe(93_600_000);
    expect(parseDuration('by-duration', 'PT0.5S')).toBe(500);
    expect(parseDuration('by-duration', '90s')).toBe(90_000);
    expect(parseDuration('by-duration', '250ms')).toBe(250);
    for (const bad of ['P', 'PT', '1 hour', '-1h', 'PT1X']) expect(() => parseDuration('by-duration', bad)).toThrow(/--by-duration must be a duration/);
    expect(parseTime('to-datetime', '2026-12-06T05:00:00Z')).toBe(Date.UTC(2026, 11, 6, 5));
    expect(parseTime('to-datetime', '1700000000000')).toBe(1_700_000_000_000);
    expect(() => parseTime('to-datetime', 'yesterday')).toThrow(UsageError);
  });

  it('rejects bad input with one sentence, before connecting', async () => {
    expect(await usageError(['streams', 'rewind'])).toBe("unknown command 'rewind'");
    expect(await usageError(['streams', 'reset'])).toBe("required option '--application-id <id>' not specified");
    expect(await usageError(['streams', 'reset', '--application-id', 'a', '--to-earliest', '--to-latest'])).toBe('give one reset target, not --to-earliest and --to-latest');
    expect(await usageError(['streams', 'reset', '--application-id', 'a', '--to-offsets', 'in:0'])).toContain('--to-offsets must list topic:partition=offset');
    expect(await usageError(['streams', 'reset', '--application-id', 'a', '--internal-topics', 'drop'])).toBe("option '--internal-topics <mode>' argument 'drop' is invalid. Allowed choices are delete, truncate.");
    expect(await usageError(['streams', 'reset', '--application-id', 'a', '--bootstrap', 'nohost'])).toBe('--bootstrap takes host:port[,host:port...], got "nohost"');
    expect(await usageError(['streams', 'diff', 'only-one'])).toBe("missing required argument 'topicB'");
    expect(await usageError(['streams', 'diff', 'a', 'b', '--limit', 'ten'])).toBe('--limit must be a non-negative integer, got "ten"');
    expect(await usageError(['replay', 'src'])).toBe("required option '--to <topic>' not specified");
    expect(await usageError(['replay', 'src', '--to', 'dst', '--key', 'a', '--key-prefix', 'b'])).toBe('give one filter, not --key and --key-prefix');
    expect(await usageError(['replay', 'src', '--to', 'dst', '--header', 'novalue'])).toBe('--header must be NAME=VALUE, got "novalue"');
    expect(await usageError(['replay', 'src', '--to', 'dst', '--from-offsets', '0:5'])).toContain('--from-offsets must list partition=offset pairs');
    expect(await usageError(['replay', 'src', '--to', 'dst', '--bogus'])).toContain('bogus');
  });
});
