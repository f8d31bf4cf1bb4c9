import { StreamsBuilder } from '../dsl/streams-builder.ts';
import type { JobDefinition } from '../runtime/job-definition.ts';
import { type TestDriverOptions, TopologyTestDriver } from './topology-test-driver.ts';

/**
 * A TopologyTestDriver for a job module's job, as `rill run` would build it: its topology on a
 * fresh builder, its applicationId (which names its dead-letter topic) and its failure policy,
 * unless `options` say otherwise.
 */
export async function jobTestDriver(job: JobDefinition, options: TestDriverOptions = {}): Promise<TopologyTestDriver> {
  const builder = new StreamsBuilder();
  await job.topology(builder);
  return new TopologyTestDriver(builder.build(), {
    applicationId: job.applicationId,
    ...(job.config?.failures === undefined ? {} : { failures: job.config.failures }),
    ...(job.config?.maxInFlightRecordsPerTask === undefined ? {} : { maxInFlightRecords: job.config.maxInFlightRecordsPerTask }),
    ...options,
  });
}
