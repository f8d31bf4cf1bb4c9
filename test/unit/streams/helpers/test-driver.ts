import type { Topology } from '../../../../streams/mod.ts';
import { type TestDriverOptions, TopologyTestDriver } from '../../../../streams/mod.ts';
import type { OutputRecord } from '../../../../streams/runtime/record-collector.ts';
import { Task } from '../../../../streams/runtime/task.ts';
import { openTaskStore } from '../../../../streams/state/open-task-store.ts';

/** The test driver, with the runtime's own stores. */
export function testDriver(topology: Topology, options: TestDriverOptions = {}): TopologyTestDriver {
  return new TopologyTestDriver(topology, options);
}

/**
 * A task of the topology's only sub-topology (partition 0) with the tests' stores, writing its
 * outputs and changelog records to `sent` and throwing on a failed record: for tests that hold
 * records in flight, or commit by hand.
 */
export function testTask(topology: Topology, sent: OutputRecord[]): Task {
  const task: Task = new Task(
    { subtopology: 0, partition: 0 },
    topology.subtopologies[0]!,
    (name) => topology.childrenOf(name),
    {
      applicationId: 'app',
      collector: { send: (r) => void sent.push(r), partitionCount: () => 1 },
      topicName: (ref) => (ref.internal ? `app-${ref.name}` : ref.name),
      openStore: (spec, taskId) =>
        openTaskStore(spec, {
          partition: taskId.partition,
          writeChangelog: (r) => void sent.push({ ...r, topic: `app-${spec.name}-changelog`, partition: taskId.partition }),
          changelogTimestampMs: () => Math.max(0, task.streamTimeMs),
        }),
      onFailure: (failure) => {
        throw failure.error;
      },
      nowMs: () => 0,
    },
    { maxInFlightRecords: 100 },
  );
  return task;
}
