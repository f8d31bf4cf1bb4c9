import { ApiKey, type MetadataResponseTopic, ZERO_UUID } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { isKafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import { CLUSTER_RESOURCE_NAME, ResourceType } from '../../auth/acl.ts';
import { authorizedOperations } from '../../auth/authorized-operations.ts';
import { isInternalTopic, validateTopicName } from '../../topic/topic-name.ts';
import type { ApiHandler, RequestContext } from '../api-handler.ts';
import { errorFields } from './kafka-error-fields.ts';

const UNSET_AUTHORIZED_OPERATIONS = -2147483648;

function describe(broker: Broker, name: string, nodeId: number): MetadataResponseTopic {
  const topic = broker.describeTopic(name);
  return {
    errorCode: 0,
    name,
    topicId: topic.topicId,
    isInternal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      errorCode: p.offline ? ErrorCode.KAFKA_STORAGE_ERROR : 0,
      partitionIndex: p.partition,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: p.offline ? [] : [nodeId],
      offlineReplicas: p.offline ? [nodeId] : [],
    })),
    topicAuthorizedOperations: UNSET_AUTHORIZED_OPERATIONS,
  };
}

function failed(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: name !== null && isInternalTopic(name),
    partitions: [],
    topicAuthorizedOperations: UNSET_AUTHORIZED_OPERATIONS,
  };
}

/** Resolves a named topic, creating it when auto-creation is on for both the broker and the request. */
async function resolveNamed(name: string, autoCreate: boolean, context: RequestContext): Promise<MetadataResponseTopic> {
  const { broker, advertised } = context;
  if (broker.hasTopic(name)) return describe(broker, name, advertised.nodeId);
  try {
    validateTopicName(name);
  } catch (error) {
    return failed(name, ZERO_UUID, errorFields(error).errorCode);
  }
  // The check-back topics are the broker's, created when a client first names them (as Kafka creates __consumer_offsets).
  if (await broker.transactionChecks.ensureTopic(name)) return describe(broker, name, advertised.nodeId);
  if (!autoCreate || !broker.config.autoCreateTopics || isInternalTopic(name)) {
    return failed(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
  try {
    await broker.createTopic(name);
  } catch (error) {
    // Another request may have created it first; anything else is this topic's error.
    if (!isKafkaError(error, 'TOPIC_ALREADY_EXISTS')) return failed(name, ZERO_UUID, errorFields(error).errorCode);
  }
  return describe(broker, name, advertised.nodeId);
}

function resolveById(topicId: string, context: RequestContext): MetadataResponseTopic {
  const { broker, advertised } = context;
  const name = broker.topicNameById(topicId);
  return name === undefined ? failed(null, topicId, ErrorCode.UNKNOWN_TOPIC_ID) : describe(broker, name, advertised.nodeId);
}

export const metadataHandler: ApiHandler<typeof ApiKey.Metadata> = {
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, context) {
    const { broker, advertised, apiVersion } = context;
    // v0 asks for every topic with an empty list; v1+ with null.
    const all = request.topics === null || (apiVersion === 0 && request.topics.length === 0);
    const autoCreate = apiVersion < 4 || request.allowAutoTopicCreation;
    const topics: MetadataResponseTopic[] = [];
    if (all) {
      for (const name of broker.listTopics({ includeInternal: true })) topics.push(describe(broker, name, advertised.nodeId));
    } else {
      for (const requested of request.topics ?? []) {
        if (requested.name === null) topics.push(resolveById(requested.topicId, context));
        else topics.push(await resolveNamed(requested.name, autoCreate, context));
      }
    }
    // Authorized operations, when asked, for a broker without an authorizer; its guard replaces them.
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: advertised.nodeId, host: advertised.host, port: advertised.port, rack: null }],
      clusterId: context.clusterId,
      controllerId: advertised.nodeId,
      topics: request.includeTopicAuthorizedOperations
        ? topics.map((t) => (t.name === null ? t : { ...t, topicAuthorizedOperations: authorizedOperations(undefined, ResourceType.TOPIC, t.name) }))
        : topics,
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
        ? authorizedOperations(undefined, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
        : UNSET_AUTHORIZED_OPERATIONS,
    };
  },
};
