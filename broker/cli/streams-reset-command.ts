import { type Command, Option } from 'commander';
import { formatResetPlan, type ResetTarget, resetApplication } from '../../streams/ops/application-reset.ts';
import { addOutputOptions, type CliContext, exitCodeOf } from './cli-program.ts';
import { parseDuration, parseTime } from './cli-values.ts';
import { addConnectionOptions, type ConnectionFlags } from './connection-options.ts';
import { UsageError } from './parse-start-options.ts';
import { withClient } from './client-session.ts';

interface ResetFlags extends ConnectionFlags {
  applicationId: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toDatetime?: string;
  byDuration?: string;
  toOffsets?: string;
  inputTopics?: string;
  internalTopics?: 'delete' | 'truncate';
  stateDir?: string;
  dryRun?: boolean;
  json?: boolean;
}

const TARGET_FLAGS = [
  ['toEarliest', 'to-earliest'],
  ['toLatest', 'to-latest'],
  ['toDatetime', 'to-datetime'],
  ['byDuration', 'by-duration'],
  ['toOffsets', 'to-offsets'],
] as const;

function target(flags: ResetFlags): ResetTarget {
  const given = TARGET_FLAGS.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
  if (given.length > 1) throw new UsageError(`give one reset target, not ${given.map((f) => `--${f}`).join(' and ')}`);
  if (flags.toLatest === true) return 'latest';
  if (flags.toDatetime !== undefined) return { timestampMs: parseTime('to-datetime', flags.toDatetime) };
  if (flags.byDuration !== undefined) return { durationAgoMs: parseDuration('by-duration', flags.byDuration) };
  if (flags.toOffsets !== undefined) {
    return {
      offsets: flags.toOffsets.split(',').map((item) => {
        const m = /^(.+):(\d+)=(\d+)$/.exec(item.trim());
        if (m === null) throw new UsageError(`--to-offsets must list topic:partition=offset items separated by commas, got "${item}"`);
        return { topic: m[1]!, partition: Number(m[2]), offset: Number(m[3]) };
      }),
    };
  }
  return 'earliest';
}

/** `rill streams reset`: prints the plan (done, or for --dry-run to be done). Exit 1 when the application is running or unknown. */
export function addStreamsResetCommand(streams: Command, context: CliContext): void {
  const command = streams
    .command('reset')
    .description('reset a stopped streams application so its next start reprocesses its inputs')
    .requiredOption('--application-id <id>', 'the application to reset')
    .option('--to-earliest', 'reset to the start of each input partition (the default target)')
    .option('--to-latest', 'reset to the end (skip everything not yet processed)')
    .option('--to-datetime <time>', 'the first record at or after TIME (ISO 8601 or ms since the epoch)')
    .option('--by-duration <duration>', 'the first record at or after now minus DURATION (PT1H, 1h, 90m, P1D)')
    .option('--to-offsets <list>', 'explicit offsets: topic:partition=offset,... (other partitions keep theirs)')
    .option('--input-topics <list>', "the application's input topics, comma-separated (default: found from its committed offsets)")
    .addOption(new Option('--internal-topics <mode>', 'delete or truncate its repartition, changelog and subscription topics').choices(['delete', 'truncate']).default('delete'))
    .option('--state-dir <dir>', "the application's stateDir on this host: its task state is wiped")
    .option('--dry-run', 'print what would be done, change nothing');
  addConnectionOptions(addOutputOptions(command));
  command.action(
    exitCodeOf(context, async (flags: ResetFlags) => {
      const to = target(flags);
      const inputTopics = flags.inputTopics?.split(',').map((t) => t.trim()).filter((t) => t !== '');
      return withClient(flags, context.env, async (transport) => {
        const plan = await resetApplication(transport, {
          applicationId: flags.applicationId,
          to,
          ...(flags.internalTopics === undefined ? {} : { internalTopics: flags.internalTopics }),
          ...(inputTopics === undefined ? {} : { inputTopics }),
          ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
          dryRun: flags.dryRun === true,
        });
        context.io.out(flags.json === true ? JSON.stringify(plan) : formatResetPlan(plan));
        return 0;
      });
    }),
  );
}
