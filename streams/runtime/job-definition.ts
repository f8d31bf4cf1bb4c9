import type { StreamsBuilder } from '../dsl/streams-builder.ts';
import type { StreamsConfig } from './streams-config.ts';

/** A topic a job creates when it is missing (an existing topic is left as it is). */
export interface JobTopic {
  name: string;
  /** Default: the broker's `num.partitions`. */
  partitions?: number;
  /** Topic configs, Kafka's names: `{ 'cleanup.policy': 'compact' }`. */
  configs?: Readonly<Record<string, string>>;
}

/** Everything of StreamsConfig a job module may set; `rill run` supplies the transport. */
export type JobConfig = Omit<StreamsConfig, 'applicationId' | 'transport'>;

/**
 * A stream job as a module `rill run` can start: the default export of the module, made by
 * `defineJob`. `topology` declares the job's operators on the builder it is given; it runs once
 * per start (and for `rill run --describe`), before any connection.
 */
export interface JobDefinition {
  /** The consumer group, the prefix of internal topics and the transactional id (`--application-id` overrides it). */
  applicationId: string;
  topology: (builder: StreamsBuilder) => void | Promise<void>;
  /** StreamsApp settings; `--state-dir` and `--guarantee` override theirs. */
  config?: JobConfig;
  /** Topics to create before the application starts when they do not exist: typically its inputs and outputs. */
  topics?: readonly JobTopic[];
}

/**
 * Marks a job made by `defineJob`, with the URL of the module that made it: `rill run` refuses a
 * job made by another copy of `rill/streams` than its own, whose DSL classes would not be the ones
 * its runtime checks with `instanceof`. `Symbol.for` so the mark is visible across copies.
 */
export const JOB_MARK: unique symbol = Symbol.for('rill.streams.job');

export type Job = JobDefinition & { readonly [JOB_MARK]: string };

/**
 * Declares a job module's default export:
 *
 * ```ts
 * import { defineJob } from 'rill/streams';
 * export default defineJob({
 *   applicationId: 'word-count',
 *   topics: [{ name: 'lines', partitions: 2 }, { name: 'word-counts', partitions: 2 }],
 *   topology: (builder) => { builder.stream('lines', ...)...to('word-counts'); },
 * });
 * ```
 */
export function defineJob(definition: JobDefinition): Job {
  return { ...definition, [JOB_MARK]: import.meta.url };
}

/** The module URL that this copy of `rill/streams` marks its jobs with. */
export const jobMarkOfThisCopy: string = import.meta.url;
