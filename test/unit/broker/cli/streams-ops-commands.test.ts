import { describe, expect, it } from 'vitest';
import { parseDuration, parseTime } from '../../../../broker/cli/cli-values.ts';
import { UsageError } from '../../../../broker/cli/parse-start-options.ts';
import { replayCommand } from '../../../../broker/cli/replay-command.ts';
import { streamsCommand } from '../../../../broker/cli/streams-command.ts';

const io = { out: () => undefined, err: () => undefined };

/** The UsageError a command throws before it connects anywhere. */
function usageError(run: () => Promise<number>): string {
  try {
    void run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
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

  it('rejects bad input with one sentence, before connecting', () => {
    expect(usageError(() => streamsCommand([], io))).toBe('rill streams needs a subcommand: reset or diff');
    expect(usageError(() => streamsCommand(['rewind'], io))).toBe('unknown streams subcommand "rewind"; use reset or diff');
    expect(usageError(() => streamsCommand(['reset'], io))).toBe('--application-id is required');
    expect(usageError(() => streamsCommand(['reset', '--application-id', 'a', '--to-earliest', '--to-latest'], io))).toBe('give one reset target, not --to-earliest and --to-latest');
    expect(usageError(() => streamsCommand(['reset', '--application-id', 'a', '--to-offsets', 'in:0'], io))).toContain('--to-offsets must list topic:partition=offset');
    expect(usageError(() => streamsCommand(['reset', '--application-id', 'a', '--internal-topics', 'drop'], io))).toBe('--internal-topics must be delete or truncate, got "drop"');
    expect(usageError(() => streamsCommand(['reset', '--application-id', 'a', '--bootstrap', 'nohost'], io))).toBe('--bootstrap must be host:port, got "nohost"');
    expect(usageError(() => streamsCommand(['diff', 'only-one'], io))).toBe('rill streams diff takes two topics, got 1');
    expect(usageError(() => streamsCommand(['diff', 'a', 'b', '--limit', 'ten'], io))).toBe('--limit must be a non-negative integer, got "ten"');
    expect(usageError(() => replayCommand(['src'], io))).toBe('--to TOPIC is required');
    expect(usageError(() => replayCommand(['src', '--to', 'dst', '--key', 'a', '--key-prefix', 'b'], io))).toBe('give one filter, not --key and --key-prefix');
    expect(usageError(() => replayCommand(['src', '--to', 'dst', '--header', 'novalue'], io))).toBe('--header must be NAME=VALUE, got "novalue"');
    expect(usageError(() => replayCommand(['src', '--to', 'dst', '--from-offsets', '0:5'], io))).toContain('--from-offsets must list partition=offset pairs');
    expect(usageError(() => replayCommand(['src', '--to', 'dst', '--bogus'], io))).toContain('bogus');
  });
});
