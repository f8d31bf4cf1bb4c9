import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type {
  CreatePartitionsRequestCreatePartitionsTopic,
  CreatePartitionsResponseCreatePartitionsTopicResult,
} from '../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import type { ApiHandler } from '../api-handler.ts';
import { type ErrorResult, settle } from './admin-result.ts';
import { errorFields } from './kafka-error-fields.ts';
import { findDuplicates } from './find-duplicates.ts';
import { RequestDeadline } from './request-deadline.ts';

/**
 * Checks manual assignments for the new partitions: null lets the broker place them, otherwise
 * there must be one per new partition and each may only name this node.
 */
function validateAssignments(broker: Broker, topic: CreatePartitionsRequestCreatePartitionsTopic, nodeId: number): void {
  if (topic.assignments === null) return;
  const current = broker.topicLayout(topic.name).partitions;
  const added = topic.count - current;
  // A count that does not grow the topic is the broker's INVALID_PARTITIONS to report.
  if (added <= 0) return;
  if (topic.assignments.length !== added) {
    throw new KafkaError(
      'INVALID_REPLICA_ASSIGNMENT',
      `topic "${topic.name}" grows by ${added} partitions but ${topic.assignments.length} assignments were given`,
    );
  }
  topic.assignments.forEach((assignment, index) => {
    if (assignment.brokerIds.length !== 1 || assignment.brokerIds[0] !== nodeId) {
      throw new KafkaError(
        'INVALID_REPLICA_ASSIGNMENT',
        `new partition ${current + index} is assigned to brokers [${assignment.brokerIds.join(', ')}]; this single-node cluster only has broker ${nodeId}`,
      );
    }
  });
}

/**
 * CreatePartitions. Every named topic gets exactly one result, errors included: clients wait on
 * a result per topic, and an empty answer leaves them hanging.
 */
export const createPartitionsHandler: ApiHandler<typeof ApiKey.CreatePartitions> = {
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    const { broker } = context;
    const duplicates = findDuplicates(request.topics.map((t) => t.name));
    const deadline = new RequestDeadline(request.timeoutMs);
    const answered = new Set<string>();
    const pending: Promise<CreatePartitionsResponseCreatePartitionsTopicResult>[] = [];
    for (const topic of request.topics) {
      if (answered.has(topic.name)) continue;
      answered.add(topic.name);
      const result = (error: ErrorResult): CreatePartitionsResponseCreatePartitionsTopicResult => ({ name: topic.name, ...error });
      if (duplicates.has(topic.name)) {
        pending.push(Promise.resolve(result(errorFields(new KafkaError('INVALID_REQUEST', `topic "${topic.name}" appears more than once in the request`)))));
        continue;
      }
      const work = settle(() => {
        validateAssignments(broker, topic, context.advertised.nodeId);
        return broker.createPartitions(topic.name, topic.count, { validateOnly: request.validateOnly });
      });
      pending.push((request.validateOnly ? work : deadline.within(work)).then(result));
    }
    try {
      return { throttleTimeMs: 0, results: await Promise.all(pending) };
    } finally {
      deadline.clear();
    }
  },
};
