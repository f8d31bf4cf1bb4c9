import { Admin } from '../../sdk/client/admin/admin.ts';
import { isKafkaError, KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { StreamsBuilder } from '../../streams/dsl/streams-builder.ts';
import type { JobDefinition, JobTopic } from '../../streams/runtime/job-definition.ts';
import { StreamsApp } from '../../streams/runtime/streams-app.ts';
import { StreamsError, StreamsErrorCode } from '../../streams/runtime/streams-error.ts';
import { TopologyError } from '../../streams/topology/topology-error.ts';
import type { Topology } from '../../streams/topology/topology.ts';
import { Broker } from '../broker.ts';
import { EmbeddedTransport } from '../embedded.ts';
import { KafkaListener } from '../kafka/kafka-listener.ts';
import { type JobHttpServer, startJobHttp } from './job-http.ts';
import { JobModuleError, loadJob } from './load-job.ts';
import type { CliContext } from './cli-program.ts';
import type { CommandIo } from './cli-io.ts';
import { connectionTransport } from './connection-options.ts';
import type { RunOptions, RunTarget } from './parse-run-options.ts';
import { UsageError } from './parse-start-options.ts';

/** The broker a run talks to, and how to let go of it. */
interface Connection {
  transport: Transport;
  close(): Promise<void>;
}

async function connect(target: RunTarget, io: CommandIo, env: CliContext['env']): Promise<Connection> {
  if (target.kind === 'bootstrap') {
    const transport = connectionTransport(target.connection, env, 'rill-run');
    return { transport, close: () => transport.close() };
  }
  // Nothing else joins the group of an in-process broker's application at start, so no delay for more members.
  const broker = await Broker.open({ config: { dataDir: target.dataDir }, groups: { initialRebalanceDelayMs: 0 } });
  let listener: KafkaListener | undefined;
  try {
    if (target.kafkaPort !== undefined) listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: target.kafkaPort });
  } catch (error) {
    await broker.close();
    throw error;
  }
  io.out(`rill: embedded broker open, data in ${target.dataDir}`);
  if (listener !== undefined) io.out(`rill: kafka listening on 127.0.0.1:${listener.port}`);
  const transport = new EmbeddedTransport(broker);
  return {
    transport,
    async close() {
      await transport.close();
      await listener?.close();
      await broker.close();
    },
  };
}

/** Runs the job's topology function on a fresh builder; a throw or an invalid topology is the job's fault. */
async function buildTopology(job: JobDefinition, modulePath: string): Promise<Topology> {
  try {
    const builder = new StreamsBuilder();
    await job.topology(builder);
    return builder.build();
  } catch (error) {
    const what = error instanceof TopologyError ? 'declares an invalid topology' : 'failed building its topology';
    throw new JobModuleError(`job module ${modulePath} ${what}: ${error instanceof Error ? error.message : String(error)}`, 1, { cause: error });
  }
}

async function createMissingTopics(transport: Transport, topics: readonly JobTopic[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Admin(transport);
  const existing = new Set(await admin.listTopics());
  for (const topic of topics) {
    if (existing.has(topic.name)) continue;
    try {
      await admin.createTopics([{ name: topic.name, ...(topic.partitions === undefined ? {} : { numPartitions: topic.partitions }), ...(topic.configs === undefined ? {} : { configs: topic.configs }) }]);
    } catch (error) {
      // Another process of the application created it meanwhile.
      if (!isKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
    }
  }
}

/**
 * Follows SIGINT and SIGTERM for the life of a run: the first asks for a clean shutdown, a second
 * one exits at once (130).
 */
function signals(io: CommandIo): { received: Promise<string>; dispose(): void } {
  let count = 0;
  let resolveReceived!: (name: string) => void;
  const received = new Promise<string>((resolve) => (resolveReceived = resolve));
  const handler = (name: string): void => {
    if (++count > 1) {
      io.err('rill: second signal, exiting without a clean shutdown');
      process.exit(130);
    }
    resolveReceived(name);
  };
  const onInt = (): void => handler('SIGINT');
  const onTerm = (): void => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    received,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

function errorText(error: unknown, verbose: boolean): string {
  if (!(error instanceof Error)) return String(error);
  if (!verbose) return error.message;
  const cause = error.cause instanceof Error ? `\ncaused by: ${error.cause.stack ?? error.cause.message}` : '';
  return `${error.stack ?? error.message}${cause}`;
}

/**
 * `rill run <job-module>`: loads a job module (`export default defineJob({...})`), and either
 * prints its topology (`--describe`) or runs it as a StreamsApp against `--bootstrap` or an
 * embedded broker until SIGINT or SIGTERM, then closes it (a last commit; under exactly-once
 * the transaction with its offsets) and exits 0. Exit 1 when the job fails, 2 for bad input.
 */
export async function runCommand(options: RunOptions, io: CommandIo, env: CliContext['env']): Promise<number> {
  try {
    return await runJob(options, io, env);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // A configuration the job or its flags got wrong is bad input, like a bad flag.
    const code = error instanceof JobModuleError ? error.exitCode : error instanceof StreamsError && error.code === StreamsErrorCode.invalidConfig ? 2 : 1;
    const known = error instanceof JobModuleError || error instanceof StreamsError || error instanceof KafkaError;
    io.err(`rill: ${known || options.verbose ? '' : 'unexpected failure: '}${errorText(error, options.verbose)}`);
    return code;
  }
}

async function runJob(options: RunOptions, io: CommandIo, env: CliContext['env']): Promise<number> {
  const job = await loadJob(options.modulePath);
  const topology = await buildTopology(job, options.modulePath);
  if (options.describe) {
    io.out(topology.describe().toString());
    return 0;
  }
  const applicationId = options.applicationId ?? job.applicationId;
  const signal = signals(io);
  let connection: Connection;
  try {
    connection = await connect(options.target!, io, env);
  } catch (error) {
    signal.dispose();
    throw error;
  }
  let app: StreamsApp | undefined;
  let http: JobHttpServer | undefined;
  /** The signal that ended the run, or what made it fail. */
  let outcome: { signal: string } | { error: unknown };
  try {
    await createMissingTopics(connection.transport, job.topics ?? []);
    app = new StreamsApp(topology, {
      ...job.config,
      applicationId,
      transport: connection.transport,
      ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
      ...(options.guarantee === undefined ? {} : { guarantee: options.guarantee }),
    });
    app.onStateChange((state) => io.out(`rill: ${applicationId} ${state}`));
    if (options.httpPort !== undefined) {
      http = await startJobHttp(app, '127.0.0.1', options.httpPort);
      io.out(`rill: ${applicationId} serving queries, /metrics and /health on ${http.url}`);
    }
    await app.start();
    outcome = await Promise.race([
      signal.received.then((name) => ({ signal: name })),
      app.stopped.then(
        () => ({ error: new StreamsError(StreamsErrorCode.fatal, 'the application stopped by itself') as unknown }),
        (error: unknown) => ({ error }),
      ),
    ]);
  } catch (error) {
    outcome = { error };
  }
  if ('signal' in outcome) io.out(`rill: ${outcome.signal} received, closing ${applicationId}`);
  try {
    await http?.close();
    // An application that failed has shut itself down, and its close() just waits for that.
    await app?.close();
    await connection.close();
  } finally {
    signal.dispose();
  }
  if ('error' in outcome) throw outcome.error;
  io.out(`rill: ${applicationId} stopped cleanly`);
  return 0;
}
