import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { type ClientFlags, clientCommand, printJson } from './client-command.ts';
import { topicFailure, withClient } from './client-session.ts';
import { HTTP_RECORDS_PER_REQUEST, HttpRecordSink, type RecordSink } from './http-record-sink.ts';
import { keyValue, nonNegativeInteger } from './option-parsers.ts';
import { InputLineError, type InputRecord, type LineFormat, parseLine, PRODUCE_FORMATS, type ProduceFormat } from './produce-input.ts';
import { Progress, progressMode } from './progress.ts';

interface ProduceFlags extends ClientFlags {
  file?: string;
  format: ProduceFormat;
  jsonEnvelope?: boolean;
  key?: string;
  keySeparator?: string;
  partition?: number;
  header?: [string, string][];
  http?: string;
  idempotencyKey?: string;
}

/** The environment variable holding the HTTP API bearer token for `--http`. */
export const HTTP_TOKEN_ENV = 'RILL_HTTP_TOKEN';

/** Records per send over Kafka, and sends in flight at once (the producer batches them further). */
const KAFKA_RECORDS_PER_SEND = 1_000;
const KAFKA_SENDS_IN_FLIGHT = 4;
/** Input bytes per send, so a few huge lines do not pile up. */
const MAX_CHUNK_BYTES = 512 * 1024;

const utf8 = new TextEncoder();

/** Kafka: an idempotent producer (acks=all), so a retried batch is never appended twice. */
class KafkaRecordSink implements RecordSink {
  private readonly producer: Producer;

  constructor(
    transport: Transport,
    private readonly topic: string,
  ) {
    this.producer = new Producer(transport, { acks: 'all', idempotent: true, allowAutoTopicCreation: false, lingerMs: 5, requestTimeoutMs: 15_000, deliveryTimeoutMs: 60_000 });
  }

  async send(records: readonly InputRecord[]): Promise<{ partition: number; offset: number }[]> {
    const sent = await this.producer.sendBatch(
      records.map((r) => ({ topic: this.topic, key: r.key, value: r.value, headers: r.headers, partition: r.partition, timestamp: r.timestamp })),
    );
    return sent.map((m) => ({ partition: m.partition, offset: m.offset }));
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}

interface ProduceSummary {
  topic: string;
  records: number;
  partitions: { partition: number; records: number; lastOffset: number }[];
}

/**
 * Reads `input` line by line, sends the records in chunks (several in flight over Kafka, one at a
 * time over HTTP), and returns what was appended. A line that cannot become a record stops the
 * read: the records of the lines before it are sent and acknowledged, none after it, and the
 * error names the line.
 */
async function produceLines(input: Readable, sink: RecordSink, format: LineFormat, options: { inFlight: number; perSend: number; progress: Progress; progressInBytes: boolean; topic: string; partitions: number }): Promise<ProduceSummary> {
  const byPartition = new Map<number, { records: number; lastOffset: number }>();
  const inFlight: Promise<void>[] = [];
  let chunk: InputRecord[] = [];
  let chunkBytes = 0;
  let count = 0;
  let acknowledged = 0;
  let bytesRead = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const records = chunk;
    chunk = [];
    chunkBytes = 0;
    inFlight.push(
      sink.send(records).then((placed) => {
        for (const p of placed) {
          const entry = byPartition.get(p.partition) ?? { records: 0, lastOffset: -1 };
          entry.records++;
          entry.lastOffset = Math.max(entry.lastOffset, p.offset);
          byPartition.set(p.partition, entry);
        }
        acknowledged += records.length;
        options.progress.update(options.progressInBytes ? bytesRead : acknowledged);
      }),
    );
    if (inFlight.length >= options.inFlight) await inFlight.shift();
  };
  const drain = async (): Promise<void> => {
    await flush();
    while (inFlight.length > 0) await inFlight.shift();
  };
  let lineNumber = 0;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      lineNumber++;
      bytesRead += line.length + 1;
      let record: InputRecord | undefined;
      try {
        record = parseLine(line, format);
      } catch (error) {
        if (!(error instanceof InputLineError)) throw error;
        await drain();
        throw new CliFailure(`line ${lineNumber}: ${error.message}; the ${count} records before it were produced, nothing from it on`);
      }
      if (record === undefined) continue;
      if (record.partition !== undefined && record.partition >= options.partitions) {
        await drain();
        throw new CliFailure(`line ${lineNumber}: topic "${options.topic}" has no partition ${record.partition} (it has ${options.partitions}); the ${count} records before it were produced, nothing from it on`);
      }
      chunk.push(record);
      count++;
      chunkBytes += (record.value?.length ?? 0) + (record.key?.length ?? 0);
      if (chunk.length >= options.perSend || chunkBytes >= MAX_CHUNK_BYTES) await flush();
    }
    await drain();
  } catch (error) {
    // Settle what is in flight before reporting, so nothing is sent after the command says it stopped.
    await Promise.allSettled(inFlight);
    throw error;
  } finally {
    lines.close();
  }
  return {
    topic: options.topic,
    records: count,
    partitions: [...byPartition].sort(([a], [b]) => a - b).map(([partition, p]) => ({ partition, ...p })),
  };
}

function lineFormat(flags: ProduceFlags): LineFormat {
  if (flags.jsonEnvelope === true && flags.format !== 'json') throw new UsageError('--json-envelope needs --format json');
  if (flags.keySeparator !== undefined && flags.format !== 'text') throw new UsageError('--key-separator splits text lines; with --format json use --json-envelope and a "key" field');
  if (flags.keySeparator === '') throw new UsageError('--key-separator must not be empty');
  if (flags.key !== undefined && flags.keySeparator !== undefined) throw new UsageError('give --key or --key-separator, not both');
  if (flags.idempotencyKey !== undefined && flags.http === undefined) {
    throw new UsageError('--idempotency-key applies to --http; over Kafka the producer is idempotent already');
  }
  if (flags.http !== undefined && !/^https?:\/\/[^\s]+$/.test(flags.http)) throw new UsageError(`--http takes the HTTP API's base URL (http://host:port), got "${flags.http}"`);
  return {
    format: flags.format,
    envelope: flags.jsonEnvelope === true,
    keySeparator: flags.keySeparator,
    key: flags.key === undefined ? null : utf8.encode(flags.key),
    headers: (flags.header ?? []).map(([key, value]) => ({ key, value: utf8.encode(value) })),
    partition: flags.partition,
  };
}

function openInput(file: string | undefined): { input: Readable; bytes: number | undefined } {
  if (file === undefined) return { input: process.stdin, bytes: undefined };
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch (error) {
    throw new CliFailure(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return { input: createReadStream(file), bytes };
}

/** `rill produce <topic>`: records from lines of stdin or a file, over Kafka (idempotent, acks=all) or the HTTP API. */
export function addProduceCommand(program: Command, context: CliContext): void {
  clientCommand(program, 'produce <topic>', 'send the lines of stdin (or --file) as records')
    .addOption(new Option('--file <path>', 'read lines from this file instead of stdin'))
    .addOption(new Option('-f, --format <format>', 'text: each line is a value; json: each line is JSON, stored as written').choices(PRODUCE_FORMATS).default('text'))
    .addOption(new Option('--json-envelope', 'json lines are {key, value, headers, partition, timestamp} (value stored as JSON text; valueEncoding utf8|base64 for raw)'))
    .addOption(new Option('-k, --key <key>', 'the key of every record'))
    .addOption(new Option('--key-separator <sep>', 'text lines are key<SEP>value'))
    .addOption(new Option('-p, --partition <n>', 'send every record to this partition').argParser(nonNegativeInteger))
    .addOption(new Option('-H, --header <name=value>', 'a header on every record, repeatable').argParser(keyValue))
    .addOption(new Option('--http <url>', `produce over the HTTP API at this base URL (bearer token from $${HTTP_TOKEN_ENV})`))
    .addOption(new Option('--idempotency-key <key>', 'with --http: request n carries Idempotency-Key <key>-<n>, so a rerun on the same input appends nothing twice'))
    .action(
      exitCodeOf(context, async (topic: string, flags: ProduceFlags) => {
        const format = lineFormat(flags);
        const { input, bytes } = openInput(flags.file);
        const progress = new Progress({
          label: 'produce',
          unit: bytes === undefined ? 'records' : 'bytes',
          ...(bytes === undefined ? { onlyIfSlow: true } : { total: bytes }),
          // Typing records at a terminal needs no progress.
          mode: flags.file === undefined && process.stdin.isTTY === true ? 'off' : progressMode(flags.json),
        });
        const run = async (sink: RecordSink, partitions: number, http: boolean): Promise<number> => {
          let summary: ProduceSummary;
          try {
            summary = await produceLines(input, sink, format, {
              inFlight: http ? 1 : KAFKA_SENDS_IN_FLIGHT,
              perSend: http ? HTTP_RECORDS_PER_REQUEST : KAFKA_RECORDS_PER_SEND,
              progress,
              progressInBytes: bytes !== undefined,
              topic,
              partitions,
            });
          } catch (error) {
            progress.abandon();
            throw error;
          } finally {
            await sink.close();
          }
          progress.finish(bytes ?? summary.records);
          if (flags.json === true) printJson(context, summary);
          else context.io.out(`produced ${summary.records} record${summary.records === 1 ? '' : 's'} to ${topic}`);
          return ExitCode.ok;
        };
        try {
          if (flags.http !== undefined) {
            const token = context.env[HTTP_TOKEN_ENV];
            const sink = new HttpRecordSink(flags.http, topic, { ...(flags.idempotencyKey === undefined ? {} : { idempotencyKey: flags.idempotencyKey }), ...(token ? { token } : {}) });
            return await run(sink, Number.MAX_SAFE_INTEGER, true);
          }
          return await withClient(flags, context.env, async (transport) => {
            let partitions: number;
            try {
              const [info] = await new Admin(transport).describeTopics([topic]);
              partitions = info!.partitions.length;
            } catch (error) {
              throw topicFailure(topic, error);
            }
            if (flags.partition !== undefined && flags.partition >= partitions) throw new CliFailure(`topic "${topic}" has no partition ${flags.partition} (it has ${partitions})`);
            return run(new KafkaRecordSink(transport, topic), partitions, false);
          });
        } finally {
          if (input !== process.stdin) input.destroy();
        }
      }),
    );
}
