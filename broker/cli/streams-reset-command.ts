import { formatResetPlan, type ResetTarget, resetApplication } from '../../streams/ops/application-reset.ts';
import { BOOTSTRAP_FLAG, parseDuration, parseFlags, parseTime, withBroker } from './cli-values.ts';
import { UsageError } from './parse-start-options.ts';
import type { CommandIo } from './start-command.ts';

export const STREAMS_RESET_USAGE = `Usage: rill streams reset --application-id ID [target] [options]

Resets a stopped streams application so its next start reprocesses its inputs.

Target (one; --to-earliest by default):
  --to-earliest           the start of each input partition
  --to-latest             the end (skip everything not yet processed)
  --to-datetime TIME      the first record at or after TIME (ISO 8601 or ms since the epoch)
  --by-duration DURATION  the first record at or after now minus DURATION (PT1H, 1h, 90m, P1D)
  --to-offsets LIST       explicit offsets: topic:partition=offset,... (other partitions keep theirs)

Options:
  --input-topics LIST     the application's input topics, comma-separated (default: found from its committed offsets)
  --internal-topics MODE  delete (default) or truncate its repartition, changelog and subscription topics
  --state-dir DIR         the application's stateDir on this host: its task state is wiped
  --dry-run               print what would be done, change nothing
  --json                  print the plan as JSON
  --bootstrap HOST:PORT   the broker (default 127.0.0.1:9092)`;

function target(values: Record<string, string | boolean | undefined>): ResetTarget {
  const given = ['to-earliest', 'to-latest', 'to-datetime', 'by-duration', 'to-offsets'].filter((f) => values[f] !== undefined);
  if (given.length > 1) throw new UsageError(`give one reset target, not ${given.map((f) => `--${f}`).join(' and ')}`);
  if (values['to-latest'] === true) return 'latest';
  if (typeof values['to-datetime'] === 'string') return { timestampMs: parseTime('to-datetime', values['to-datetime']) };
  if (typeof values['by-duration'] === 'string') return { durationAgoMs: parseDuration('by-duration', values['by-duration']) };
  if (typeof values['to-offsets'] === 'string') {
    return {
      offsets: values['to-offsets'].split(',').map((item) => {
        const m = /^(.+):(\d+)=(\d+)$/.exec(item.trim());
        if (m === null) throw new UsageError(`--to-offsets must list topic:partition=offset items separated by commas, got "${item}"`);
        return { topic: m[1]!, partition: Number(m[2]), offset: Number(m[3]) };
      }),
    };
  }
  return 'earliest';
}

/** `rill streams reset`: prints the plan (done, or for --dry-run to be done). Exit 1 when the application is running or unknown. */
export function streamsResetCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    'application-id': { type: 'string' },
    'to-earliest': { type: 'boolean' },
    'to-latest': { type: 'boolean' },
    'to-datetime': { type: 'string' },
    'by-duration': { type: 'string' },
    'to-offsets': { type: 'string' },
    'input-topics': { type: 'string' },
    'internal-topics': { type: 'string' },
    'state-dir': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
    ...BOOTSTRAP_FLAG,
  });
  if (values['help'] === true) {
    io.out(STREAMS_RESET_USAGE);
    return Promise.resolve(0);
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const applicationId = values['application-id'];
  if (typeof applicationId !== 'string' || applicationId === '') throw new UsageError('--application-id is required');
  const internalTopics = values['internal-topics'];
  if (internalTopics !== undefined && internalTopics !== 'delete' && internalTopics !== 'truncate') throw new UsageError(`--internal-topics must be delete or truncate, got "${String(internalTopics)}"`);
  const to = target(values);
  const inputTopics = typeof values['input-topics'] === 'string' ? values['input-topics'].split(',').map((t) => t.trim()).filter((t) => t !== '') : undefined;
  return withBroker(io, values['bootstrap'], async (transport) => {
    const plan = await resetApplication(transport, {
      applicationId,
      to,
      ...(internalTopics === undefined ? {} : { internalTopics }),
      ...(inputTopics === undefined ? {} : { inputTopics }),
      ...(typeof values['state-dir'] === 'string' ? { stateDir: values['state-dir'] } : {}),
      dryRun: values['dry-run'] === true,
    });
    io.out(values['json'] === true ? JSON.stringify(plan) : formatResetPlan(plan));
    return 0;
  });
}
