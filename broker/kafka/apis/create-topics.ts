import { ApiKey, ZERO_UUID } from '../../../sdk/protocol/mod.ts';
import type {
  CreateTopicsRequestCreatableTopic,
  CreateTopicsResponseCreatableTopicConfigs,
  CreateTopicsResponseCreatableTopicResult,
} from '../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import { describeTopicConfig } from '../../topic/topic-config.ts';
import type { CreateTopicOptions } from '../../topic/topic-description.ts';
import type { ApiHandler } from '../api-handler.ts';
import { type ErrorResult, NO_ERROR, settle } from './admin-result.ts';
import { errorFields } from './kafka-error-fields.ts';
import { ConfigSource } from './config-resource.ts';
import { findDuplicates } from './find-duplicates.ts';
import { RequestDeadline } from './request-deadline.ts';

/** A single node holds every replica, so the only possible replication factor is 1. */
const REPLICATION_FACTOR = 1;

/**
 * Turns one requested topic into broker options, or throws the KafkaError Kafka would answer.
 * `numPartitions`/`replicationFactor` of -1 mean the broker default (v4+); manual assignments
 * replace both and may only place each partition on this node.
 */
function toCreateOptions(topic: CreateTopicsRequestCreatableTopic, nodeId: number): CreateTopicOptions {
  const options: CreateTopicOptions = {};
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      throw new KafkaError('INVALID_REQUEST', 'numPartitions and replicationFactor must be -1 when replica assignments are given');
    }
    const sorted = [...topic.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    sorted.forEach((assignment, index) => {
      if (assignment.partitionIndex !== index) {
        throw new KafkaError('INVALID_REPLICA_ASSIGNMENT', `replica assignments must name partitions 0 to ${sorted.length - 1} once each`);
      }
      if (assignment.brokerIds.length !== 1 || assignment.brokerIds[0] !== nodeId) {
        throw new KafkaError(
          'INVALID_REPLICA_ASSIGNMENT',
          `partition ${assignment.partitionIndex} is assigned to brokers [${assignment.brokerIds.join(', ')}]; this single-node cluster only has broker ${nodeId}`,
        );
      }
    });
    options.partitions = sorted.length;
  } else {
    if (topic.replicationFactor !== -1 && topic.replicationFactor !== REPLICATION_FACTOR) {
      throw new KafkaError(
        'INVALID_REPLICATION_FACTOR',
        `replication factor ${topic.replicationFactor} is not possible on a single-node cluster; use 1 or -1`,
      );
    }
    if (topic.numPartitions !== -1) options.partitions = topic.numPartitions;
  }
  const config: Record<string, string> = {};
  for (const entry of topic.configs) {
    if (entry.value === null) throw new KafkaError('INVALID_CONFIG', `config "${entry.name}" has a null value`);
    config[entry.name] = entry.value;
  }
  options.config = config;
  return options;
}

function configsOf(broker: Broker, overrides: Record<string, string>): CreateTopicsResponseCreatableTopicConfigs[] {
  return describeTopicConfig(overrides, broker.config.topicDefaults).map((c) => ({
    name: c.name,
    value: c.value,
    readOnly: false,
    configSource: c.isDefault ? ConfigSource.defaultConfig : ConfigSource.dynamicTopicConfig,
    isSensitive: false,
  }));
}

function failed(name: string, error: ErrorResult): CreateTopicsResponseCreatableTopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    ...error,
    topicConfigErrorCode: 0,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
}

/** The v5+ description of a topic that was created, or would be under `validateOnly`. */
function created(broker: Broker, name: string, options: CreateTopicOptions, topicId: string): CreateTopicsResponseCreatableTopicResult {
  return {
    name,
    topicId,
    ...NO_ERROR,
    topicConfigErrorCode: 0,
    numPartitions: options.partitions ?? broker.config.defaultPartitions,
    replicationFactor: REPLICATION_FACTOR,
    configs: configsOf(broker, options.config ?? {}),
  };
}

async function createOne(
  broker: Broker,
  name: string,
  options: CreateTopicOptions,
  validateOnly: boolean,
  deadline: RequestDeadline,
): Promise<CreateTopicsResponseCreatableTopicResult> {
  if (validateOnly) {
    const error = await settle(() => broker.validateCreateTopic(name, options));
    return error.errorCode === 0 ? created(broker, name, options, ZERO_UUID) : failed(name, error);
  }
  let topicId = ZERO_UUID;
  const error = await deadline.within(settle(async () => (topicId = (await broker.createTopic(name, options)).topicId)));
  return error.errorCode === 0 ? created(broker, name, options, topicId) : failed(name, error);
}

/**
 * CreateTopics. v5+ answers each created topic with its partition count, replication factor and
 * full config set; v7 adds the topic id. A name given twice in one request is rejected for every
 * copy (Kafka's INVALID_REQUEST) and answered once.
 */
export const createTopicsHandler: ApiHandler<typeof ApiKey.CreateTopics> = {
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, context) {
    const { broker } = context;
    const duplicates = findDuplicates(request.topics.map((t) => t.name));
    const deadline = new RequestDeadline(request.timeoutMs);
    const answered = new Set<string>();
    const pending: Promise<CreateTopicsResponseCreatableTopicResult>[] = [];
    for (const topic of request.topics) {
      if (answered.has(topic.name)) continue;
      answered.add(topic.name);
      if (duplicates.has(topic.name)) {
        const error = new KafkaError('INVALID_REQUEST', `topic "${topic.name}" appears more than once in the request`);
        pending.push(Promise.resolve(failed(topic.name, errorFields(error))));
        continue;
      }
      let options: CreateTopicOptions;
      try {
        options = toCreateOptions(topic, context.advertised.nodeId);
      } catch (error) {
        pending.push(Promise.resolve(failed(topic.name, errorFields(error))));
        continue;
      }
      pending.push(createOne(broker, topic.name, options, request.validateOnly, deadline));
    }
    try {
      return { throttleTimeMs: 0, topics: await Promise.all(pending) };
    } finally {
      deadline.clear();
    }
  },
};
