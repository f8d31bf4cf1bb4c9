import { type Command, Option } from 'commander';
import { measureLatency } from '../../bench/peers/latency.ts';
import { rillSession } from '../../bench/peers/rill-session.ts';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { type ClientFlags, clientCommand, printJson } from './client-command.ts';
import { withClient } from './client-session.ts';
import { nonNegativeInteger, positiveInteger } from './option-parsers.ts';
import { Progress, progressMode } from './progress.ts';

interface BenchFlags extends ClientFlags {
  records: number;
  recordSize: number;
  partitions: number;
  latencySeconds: number;
  latencyRate: number;
  warmupSeconds: number;
  keepTopics?: boolean;
}

/** The send time is a float64 at the start of each latency payload. */
const MIN_RECORD_BYTES = 8;

const rate = (n: number): string => `${Math.round(n).toLocaleString('en')} records/s`;
const ms = (n: number): string => `${n.toFixed(3)} ms`;
const round = (n: number, digits: number): number => +n.toFixed(digits);

/**
 * `rill bench`: bench/client.ts's Rill measurements against the connected broker, through the same
 * session code (bench/peers/rill-session.ts): produce records/s until every record is acknowledged
 * (acks=all, idempotent), consume records/s reading them back, and send-to-receipt latency at a
 * paced rate after a warm-up. Prints the figures and one JSON line with bench/client.ts's keys.
 */
export function addBenchCommand(program: Command, context: CliContext): void {
  clientCommand(program, 'bench', 'a quick produce/consume benchmark against the connected broker')
    .addOption(new Option('--records <n>', 'records to produce and consume').argParser(positiveInteger).default(100_000))
    .addOption(new Option('--record-size <bytes>', 'payload bytes per record').argParser(positiveInteger).default(100))
    .addOption(new Option('--partitions <n>', 'partitions of the benchmark topics').argParser(positiveInteger).default(4))
    .addOption(new Option('--latency-seconds <s>', 'seconds of latency measurement after the warm-up (0 skips it)').argParser(nonNegativeInteger).default(5))
    .addOption(new Option('--latency-rate <n>', 'records/s sent one by one in the latency run').argParser(positiveInteger).default(5_000))
    .addOption(new Option('--warmup-seconds <s>', 'latency warm-up not counted').argParser(nonNegativeInteger).default(2))
    .addOption(new Option('--keep-topics', 'keep the benchmark topics (deleted by default)'))
    .action(
      exitCodeOf(context, async (flags: BenchFlags) => {
        if (flags.recordSize < MIN_RECORD_BYTES) throw new UsageError(`--record-size must be at least ${MIN_RECORD_BYTES} bytes (the latency run stamps a send time into each)`);
        const mode = progressMode(flags.json);
        return withClient(flags, context.env, (producerTransport) =>
          withClient(flags, context.env, async (consumerTransport) => {
            const prefix = `rill-bench-${Date.now().toString(36)}`;
            const topics = [`${prefix}-throughput`, ...(flags.latencySeconds > 0 ? [`${prefix}-latency`] : [])];
            let progress: Progress | undefined;
            const session = rillSession(producerTransport, consumerTransport, {
              partitions: flags.partitions,
              lingerMs: 0,
              batchSizeBytes: 256 * 1024,
              window: 20_000,
              onProduced: (n) => progress?.update(n),
              onConsumed: (n) => progress?.update(n),
            });
            const say = (line: string): void => {
              if (flags.json !== true) context.io.out(line);
            };
            say(`rill bench against ${flags.bootstrap}: ${flags.records.toLocaleString('en')} records of ${flags.recordSize} bytes, ${flags.partitions} partition(s), acks=all idempotent producer, read_committed consumer`);
            try {
              const value = new Uint8Array(flags.recordSize).fill(0x61);
              progress = new Progress({ label: 'produce', unit: 'records', total: flags.records, mode });
              let start = performance.now();
              await session.produce(topics[0]!, flags.records, value);
              const produceRate = flags.records / ((performance.now() - start) / 1_000);
              progress.finish(flags.records);
              say(`  produce  ${rate(produceRate)}`);
              progress = new Progress({ label: 'consume', unit: 'records', total: flags.records, mode });
              start = performance.now();
              const bytes = await session.consume(topics[0]!, flags.records);
              const consumeRate = flags.records / ((performance.now() - start) / 1_000);
              progress.finish(flags.records);
              progress = undefined;
              if (bytes !== flags.records * flags.recordSize) throw new CliFailure(`consumed ${bytes} payload bytes, expected ${flags.records * flags.recordSize}`);
              say(`  consume  ${rate(consumeRate)}`);
              const figures: Record<string, unknown> = {
                produce_records_s: Math.round(produceRate),
                consume_records_s: Math.round(consumeRate),
              };
              if (flags.latencySeconds > 0) {
                if (flags.json !== true) context.io.err(`measuring latency at ${flags.latencyRate.toLocaleString('en')} records/s for ${flags.warmupSeconds + flags.latencySeconds} s...`);
                const latency = await measureLatency({ ...session, close: async () => undefined }, topics[1]!, {
                  rate: flags.latencyRate,
                  seconds: flags.latencySeconds,
                  warmupSeconds: flags.warmupSeconds,
                  valueBytes: flags.recordSize,
                });
                say(
                  `  latency  p50 ${ms(latency.p50Ms)}, p99 ${ms(latency.p99Ms)}, max ${ms(latency.maxMs)} (send to ack p50 ${ms(latency.ackP50Ms)}, p99 ${ms(latency.ackP99Ms)}), ${latency.received}/${latency.sent} received`,
                );
                Object.assign(figures, {
                  latency_p50_ms: round(latency.p50Ms, 3),
                  latency_p99_ms: round(latency.p99Ms, 3),
                  latency_max_ms: round(latency.maxMs, 3),
                  ack_p50_ms: round(latency.ackP50Ms, 3),
                  ack_p99_ms: round(latency.ackP99Ms, 3),
                  latency_samples: latency.samples,
                  latency_lost: latency.sent - latency.received,
                });
              }
              printJson(context, { ...figures, records: flags.records, record_bytes: flags.recordSize, partitions: flags.partitions, bootstrap: flags.bootstrap });
              return ExitCode.ok;
            } catch (error) {
              progress?.abandon();
              throw error;
            } finally {
              if (flags.keepTopics !== true) await new Admin(producerTransport).deleteTopics(topics).catch(() => undefined);
            }
          }),
        );
      }),
    );
}
