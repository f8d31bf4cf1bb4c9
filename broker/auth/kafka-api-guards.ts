import { ApiKey, type RequestBodies, type ResponseBodies, ZERO_UUID } from '../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import type { RequestContext } from '../kafka/api-handler.ts';
import { AclOperation as Op, type AclOperationValue, CLUSTER_RESOURCE_NAME, ResourceType as R } from './acl.ts';
import { authorizedOperations } from './authorized-operations.ts';
import type { RequestAccess } from './request-access.ts';
import { shareApiGuards } from './share-api-guards.ts';

/**
 * What each Kafka API needs, as Kafka's KafkaApis checks it: a guard looks at the request, answers
 * it outright when the whole request is denied, or narrows it to the resources the principal may
 * touch and puts the denied ones back into the response with Kafka's authorization error. The
 * handler never sees a denied resource, so nothing denied is appended, read or changed.
 */
export type GuardOutcome<K extends ApiKey> =
  | { kind: 'deny'; response: ResponseBodies[K] }
  | { kind: 'pass'; request: RequestBodies[K]; finish?: (response: ResponseBodies[K]) => ResponseBodies[K] };

export type ApiGuard<K extends ApiKey> = (request: RequestBodies[K], access: RequestAccess, context: RequestContext) => GuardOutcome<K>;

export type GuardTable = { [K in ApiKey]?: ApiGuard<K> };

const TOPIC_DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
const GROUP_DENIED = ErrorCode.GROUP_AUTHORIZATION_FAILED;
const CLUSTER_DENIED = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
const TXN_DENIED = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
/** Kafka's "authorized operations not requested" marker. */
const NO_AUTHORIZED_OPERATIONS = -2147483648;

function pass<K extends ApiKey>(request: RequestBodies[K], finish?: (response: ResponseBodies[K]) => ResponseBodies[K]): GuardOutcome<K> {
  return finish === undefined ? { kind: 'pass', request } : { kind: 'pass', request, finish };
}

function deny<K extends ApiKey>(response: ResponseBodies[K]): GuardOutcome<K> {
  return { kind: 'deny', response };
}

/** Splits items into those `allowed` accepts and the rest, keeping order. */
function split<T>(items: readonly T[], allowed: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (allowed(item) ? yes : no).push(item);
  return [yes, no];
}

function topicAllowed(access: RequestAccess, operation: AclOperationValue): (topic: { name: string }) => boolean {
  return (topic) => access.allowed(R.TOPIC, topic.name, operation);
}

/** Config resources: 2 is a topic, 4 a broker, 8 a broker logger (both cluster-level in Kafka's checks), 32 a group (checked on the group). */
function configResourceAllowed(access: RequestAccess, resource: { resourceType: number; resourceName: string }, operation: AclOperationValue): number {
  if (resource.resourceType === 2) return access.allowed(R.TOPIC, resource.resourceName, operation) ? ErrorCode.NONE : TOPIC_DENIED;
  if (resource.resourceType === 32) return access.allowed(R.GROUP, resource.resourceName, operation) ? ErrorCode.NONE : GROUP_DENIED;
  return access.cluster(operation) ? ErrorCode.NONE : CLUSTER_DENIED;
}

/**
 * AlterConfigs and IncrementalAlterConfigs alike: AlterConfigs on each resource; the denied ones
 * answer in `responses` with the authorization error, the rest go to the handler.
 */
function alterConfigsGuard<K extends typeof ApiKey.AlterConfigs | typeof ApiKey.IncrementalAlterConfigs>(request: RequestBodies[K], access: RequestAccess): GuardOutcome<K> {
  const denied: { resourceType: number; resourceName: string; errorCode: number }[] = [];
  const resources = request.resources.filter((resource) => {
    const errorCode = configResourceAllowed(access, resource, Op.ALTER_CONFIGS);
    if (errorCode !== ErrorCode.NONE) denied.push({ resourceType: resource.resourceType, resourceName: resource.resourceName, errorCode });
    return errorCode === ErrorCode.NONE;
  });
  return pass<K>({ ...request, resources }, (response) => ({
    ...response,
    responses: [...response.responses, ...denied.map((d) => ({ ...d, errorMessage: 'Authorization failed.' }))],
  }));
}

/** Metadata's topics: the ones the principal may not describe are left out of a listing and denied when named. */
function metadataTopicsGuard(request: RequestBodies[typeof ApiKey.Metadata], access: RequestAccess, { broker, apiVersion }: RequestContext): GuardOutcome<typeof ApiKey.Metadata> {
  const deniedTopic = (name: string | null, topicId: string) => ({
    errorCode: TOPIC_DENIED,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: NO_AUTHORIZED_OPERATIONS,
  });
  // v0 asks for every topic with an empty list, v1+ with null; v0-v3 always auto-create.
  if (request.topics === null || (apiVersion === 0 && request.topics.length === 0)) {
    // All topics: the ones the principal may not describe are left out, not reported.
    return pass(request, (response) => ({ ...response, topics: response.topics.filter((t) => t.name !== null && access.visible(R.TOPIC, t.name, Op.DESCRIBE)) }));
  }
  const denied: { name: string | null; topicId: string }[] = [];
  const topics = request.topics.filter((requested) => {
    const name = requested.name ?? broker.topicNameById(requested.topicId);
    if (name === undefined) return true;
    const autoCreates = (apiVersion < 4 || request.allowAutoTopicCreation) && broker.config.autoCreateTopics && !broker.hasTopic(name);
    if (access.allowed(R.TOPIC, name, Op.DESCRIBE) && (!autoCreates || access.mayCreateTopic(name))) return true;
    denied.push({ name: requested.name, topicId: requested.name === null ? requested.topicId : ZERO_UUID });
    return false;
  });
  if (denied.length === 0) return pass(request);
  // Every requested topic denied: an empty list would mean "all topics" to the handler.
  if (topics.length === 0) {
    return pass({ ...request, topics: [] }, (response) => ({ ...response, topics: denied.map((t) => deniedTopic(t.name, t.topicId)) }));
  }
  return pass({ ...request, topics }, (response) => ({ ...response, topics: [...response.topics, ...denied.map((t) => deniedTopic(t.name, t.topicId))] }));
}

/**
 * The cluster's authorized operations, given (as Kafka does) only to a principal that may describe
 * the cluster, else 0. Not audited: asking what one may do is not an attempt to do it.
 */
function clusterOperations(access: RequestAccess): number {
  return access.visible(R.CLUSTER, CLUSTER_RESOURCE_NAME, Op.DESCRIBE) ? authorizedOperations(access, R.CLUSTER, CLUSTER_RESOURCE_NAME) : 0;
}

/** Adds a step after an outcome's own finish (if it passes). */
function thenFinish<K extends ApiKey>(outcome: GuardOutcome<K>, after: (response: ResponseBodies[K]) => ResponseBodies[K]): GuardOutcome<K> {
  if (outcome.kind === 'deny') return outcome;
  const first = outcome.finish;
  return pass(outcome.request, first === undefined ? after : (response) => after(first(response)));
}

export const kafkaApiGuards: GuardTable = {
  [ApiKey.ApiVersions]: (request) => pass(request),
  // Authentication happens before there is a principal to authorize.
  [ApiKey.SaslHandshake]: (request) => pass(request),
  [ApiKey.SaslAuthenticate]: (request) => pass(request),

  [ApiKey.Produce]: (request, access) => {
    const txnDenied = request.transactionalId !== null && !access.allowed(R.TRANSACTIONAL_ID, request.transactionalId, Op.WRITE);
    const denied = new Map<string, { partitions: number[]; errorCode: number }>();
    const topicData = request.topicData.filter((topic) => {
      let errorCode: number = ErrorCode.NONE;
      if (txnDenied) errorCode = TXN_DENIED;
      else if (!access.allowed(R.TOPIC, topic.name, Op.WRITE)) errorCode = TOPIC_DENIED;
      if (errorCode === ErrorCode.NONE) return true;
      denied.set(topic.name, { partitions: topic.partitionData.map((p) => p.index), errorCode });
      return false;
    });
    if (denied.size === 0) return pass(request);
    return pass({ ...request, topicData }, (response) => ({
      ...response,
      responses: [
        ...response.responses,
        ...[...denied].map(([name, { partitions, errorCode }]) => ({
          name,
          partitionResponses: partitions.map((index) => ({
            index,
            errorCode,
            baseOffset: -1n,
            logAppendTimeMs: -1n,
            logStartOffset: -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
          })),
        })),
      ],
    }));
  },

  [ApiKey.Fetch]: (request, access, { broker }) => {
    const nameOf = (topic: { topic: string; topicId: string }): string => (topic.topic !== '' ? topic.topic : (broker.topicNameById(topic.topicId) ?? ''));
    const [topics, denied] = split(request.topics, (topic) => access.allowed(R.TOPIC, nameOf(topic), Op.READ));
    const deniedPartition = (partitionIndex: number) => ({
      partitionIndex,
      errorCode: TOPIC_DENIED,
      highWatermark: -1n,
      lastStableOffset: -1n,
      logStartOffset: -1n,
      divergingEpoch: { epoch: -1, endOffset: -1n },
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
      snapshotId: { endOffset: -1n, epoch: -1 },
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: null,
    });
    // A fetch session answers partitions cached from earlier requests too; one whose ACL has since
    // been removed must not be read, so the response is checked as well as the request.
    return pass({ ...request, topics }, (response) => ({
      ...response,
      responses: [
        ...response.responses.map((topic) =>
          access.visible(R.TOPIC, nameOf(topic), Op.READ) ? topic : { ...topic, partitions: topic.partitions.map((p) => deniedPartition(p.partitionIndex)) },
        ),
        ...denied.map((topic) => ({ topic: topic.topic, topicId: topic.topicId, partitions: topic.partitions.map((p) => deniedPartition(p.partition)) })),
      ],
    }));
  },

  [ApiKey.ListOffsets]: (request, access) => {
    const [topics, denied] = split(request.topics, topicAllowed(access, Op.DESCRIBE));
    return pass({ ...request, topics }, (response) => ({
      ...response,
      topics: [
        ...response.topics,
        ...denied.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: TOPIC_DENIED,
            oldStyleOffsets: [],
            timestamp: -1n,
            offset: -1n,
            leaderEpoch: -1,
          })),
        })),
      ],
    }));
  },

  [ApiKey.Metadata]: (request, access, context) => {
    const topicsOutcome = metadataTopicsGuard(request, access, context);
    if (topicsOutcome.kind === 'deny' || (!request.includeTopicAuthorizedOperations && !request.includeClusterAuthorizedOperations)) return topicsOutcome;
    return thenFinish(topicsOutcome, (response) => ({
      ...response,
      topics: request.includeTopicAuthorizedOperations
        ? response.topics.map((t) =>
            t.name === null || t.errorCode === TOPIC_DENIED ? t : { ...t, topicAuthorizedOperations: authorizedOperations(access, R.TOPIC, t.name) },
          )
        : response.topics,
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? clusterOperations(access) : NO_AUTHORIZED_OPERATIONS,
    }));
  },

  // Anyone may describe the cluster (as in Kafka); only its authorized operations depend on the ACLs.
  [ApiKey.DescribeCluster]: (request, access) => {
    if (!request.includeClusterAuthorizedOperations) return pass(request);
    return pass(request, (response) => (response.errorCode === ErrorCode.NONE ? { ...response, clusterAuthorizedOperations: clusterOperations(access) } : response));
  },

  [ApiKey.CreateTopics]: (request, access) => {
    const [topics, denied] = split(request.topics, (topic) => access.mayCreateTopic(topic.name));
    return pass({ ...request, topics }, (response) => ({
      ...response,
      topics: [
        ...response.topics,
        ...denied.map((topic) => ({
          name: topic.name,
          topicId: ZERO_UUID,
          errorCode: TOPIC_DENIED,
          errorMessage: 'Authorization failed.',
          topicConfigErrorCode: 0,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        })),
      ],
    }));
  },

  [ApiKey.DeleteTopics]: (request, access, { broker }) => {
    const deniedResult = (name: string | null, topicId: string) => ({ name, topicId, errorCode: TOPIC_DENIED, errorMessage: 'Authorization failed.' });
    const [topicNames, deniedNames] = split(request.topicNames, (name) => access.allowed(R.TOPIC, name, Op.DELETE));
    const [topics, deniedTopics] = split(request.topics, (topic) => {
      const name = topic.name ?? broker.topicNameById(topic.topicId);
      return name === undefined || access.allowed(R.TOPIC, name, Op.DELETE);
    });
    const denied = [...deniedNames.map((name) => deniedResult(name, ZERO_UUID)), ...deniedTopics.map((t) => deniedResult(t.name, t.topicId))];
    return pass({ ...request, topicNames, topics }, (response) => ({ ...response, responses: [...response.responses, ...denied] }));
  },

  [ApiKey.CreatePartitions]: (request, access) => {
    const [topics, denied] = split(request.topics, topicAllowed(access, Op.ALTER));
    return pass({ ...request, topics }, (response) => ({
      ...response,
      results: [...response.results, ...denied.map((t) => ({ name: t.name, errorCode: TOPIC_DENIED, errorMessage: 'Authorization failed.' }))],
    }));
  },

  [ApiKey.DeleteRecords]: (request, access) => {
    const [topics, denied] = split(request.topics, topicAllowed(access, Op.DELETE));
    return pass({ ...request, topics }, (response) => ({
      ...response,
      topics: [
        ...response.topics,
        ...denied.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: TOPIC_DENIED })) })),
      ],
    }));
  },

  [ApiKey.DescribeConfigs]: (request, access) => {
    const denied: { resourceType: number; resourceName: string; errorCode: number }[] = [];
    const resources = request.resources.filter((resource) => {
      const errorCode = configResourceAllowed(access, resource, Op.DESCRIBE_CONFIGS);
      if (errorCode !== ErrorCode.NONE) denied.push({ resourceType: resource.resourceType, resourceName: resource.resourceName, errorCode });
      return errorCode === ErrorCode.NONE;
    });
    return pass({ ...request, resources }, (response) => ({
      ...response,
      results: [...response.results, ...denied.map((d) => ({ ...d, errorMessage: 'Authorization failed.', configs: [] }))],
    }));
  },

  [ApiKey.AlterConfigs]: alterConfigsGuard,
  [ApiKey.IncrementalAlterConfigs]: alterConfigsGuard,

  [ApiKey.FindCoordinator]: (request, access, { apiVersion }) => {
    const keyAllowed = (key: string): number => {
      if (request.keyType === 1) return access.allowed(R.TRANSACTIONAL_ID, key, Op.DESCRIBE) ? ErrorCode.NONE : TXN_DENIED;
      return access.allowed(R.GROUP, key, Op.DESCRIBE) ? ErrorCode.NONE : GROUP_DENIED;
    };
    // v0-v3 carry one key; v4+ a list of them.
    if (apiVersion < 4) {
      const errorCode = keyAllowed(request.key);
      if (errorCode === ErrorCode.NONE) return pass(request);
      return deny({ throttleTimeMs: 0, errorCode, errorMessage: 'Authorization failed.', nodeId: -1, host: '', port: -1, coordinators: [] });
    }
    const denied: { key: string; errorCode: number }[] = [];
    const coordinatorKeys = request.coordinatorKeys.filter((key) => {
      const errorCode = keyAllowed(key);
      if (errorCode !== ErrorCode.NONE) denied.push({ key, errorCode });
      return errorCode === ErrorCode.NONE;
    });
    const deniedEntries = denied.map((d) => ({ ...d, nodeId: -1, host: '', port: -1, errorMessage: 'Authorization failed.' }));
    // v4+: the top-level node fields are not on the wire and must keep their defaults.
    if (coordinatorKeys.length === 0) {
      return deny({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, nodeId: 0, host: '', port: 0, coordinators: deniedEntries });
    }
    return pass({ ...request, coordinatorKeys }, (response) => ({ ...response, coordinators: [...response.coordinators, ...deniedEntries] }));
  },

  [ApiKey.JoinGroup]: (request, access) =>
    access.allowed(R.GROUP, request.groupId, Op.READ)
      ? pass(request)
      : deny({
          throttleTimeMs: 0,
          errorCode: GROUP_DENIED,
          generationId: -1,
          protocolType: null,
          // Not nullable before v7.
          protocolName: '',
          leader: '',
          skipAssignment: false,
          memberId: request.memberId,
          members: [],
        }),

  [ApiKey.SyncGroup]: (request, access) =>
    access.allowed(R.GROUP, request.groupId, Op.READ)
      ? pass(request)
      : deny({ throttleTimeMs: 0, errorCode: GROUP_DENIED, protocolType: null, protocolName: null, assignment: new Uint8Array(0) }),

  [ApiKey.Heartbeat]: (request, access) =>
    access.allowed(R.GROUP, request.groupId, Op.READ) ? pass(request) : deny({ throttleTimeMs: 0, errorCode: GROUP_DENIED }),

  [ApiKey.LeaveGroup]: (request, access) =>
    access.allowed(R.GROUP, request.groupId, Op.READ) ? pass(request) : deny({ throttleTimeMs: 0, errorCode: GROUP_DENIED, members: [] }),

  [ApiKey.OffsetCommit]: (request, access) => {
    const allDenied = (errorCode: number, topics: typeof request.topics) =>
      topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) }));
    if (!access.allowed(R.GROUP, request.groupId, Op.READ)) return deny({ throttleTimeMs: 0, topics: allDenied(GROUP_DENIED, request.topics) });
    const [topics, denied] = split(request.topics, topicAllowed(access, Op.READ));
    return pass({ ...request, topics }, (response) => ({ ...response, topics: [...response.topics, ...allDenied(TOPIC_DENIED, denied)] }));
  },

  [ApiKey.OffsetFetch]: (request, access) => {
    const deniedTopic = (t: { name: string; partitionIndexes: number[] }) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: null, errorCode: TOPIC_DENIED })),
    });
    const describable = (t: { name: string }) => access.visible(R.TOPIC, t.name, Op.DESCRIBE);
    if (request.groups.length === 0) {
      if (!access.allowed(R.GROUP, request.groupId, Op.DESCRIBE)) return deny({ throttleTimeMs: 0, topics: [], errorCode: GROUP_DENIED, groups: [] });
      if (request.topics === null) return pass(request, (response) => ({ ...response, topics: response.topics.filter(describable) }));
      const [topics, denied] = split(request.topics, topicAllowed(access, Op.DESCRIBE));
      return pass({ ...request, topics }, (response) => ({ ...response, topics: [...response.topics, ...denied.map(deniedTopic)] }));
    }
    const [groups, deniedGroups] = split(request.groups, (g) => access.allowed(R.GROUP, g.groupId, Op.DESCRIBE));
    const deniedTopics = new Map<string, ReturnType<typeof deniedTopic>[]>();
    const narrowed = groups.map((group) => {
      if (group.topics === null) return group;
      const [topics, denied] = split(group.topics, topicAllowed(access, Op.DESCRIBE));
      deniedTopics.set(group.groupId, denied.map(deniedTopic));
      return { ...group, topics };
    });
    const deniedGroupResults = deniedGroups.map((g) => ({ groupId: g.groupId, topics: [], errorCode: GROUP_DENIED }));
    if (narrowed.length === 0) return deny({ throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups: deniedGroupResults });
    return pass({ ...request, groups: narrowed }, (response) => ({
      ...response,
      groups: [
        ...response.groups.map((g) => ({ ...g, topics: [...g.topics.filter(describable), ...(deniedTopics.get(g.groupId) ?? [])] })),
        ...deniedGroupResults,
      ],
    }));
  },

  [ApiKey.DescribeGroups]: (request, access) => {
    const [groups, denied] = split(request.groups, (groupId) => access.allowed(R.GROUP, groupId, Op.DESCRIBE));
    const deniedResults = denied.map((groupId) => ({
      errorCode: GROUP_DENIED,
      groupId,
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: NO_AUTHORIZED_OPERATIONS,
    }));
    if (groups.length === 0) return deny({ throttleTimeMs: 0, groups: deniedResults });
    return pass({ ...request, groups }, (response) => ({
      ...response,
      groups: [
        ...(request.includeAuthorizedOperations
          ? response.groups.map((g) => ({ ...g, authorizedOperations: authorizedOperations(access, R.GROUP, g.groupId) }))
          : response.groups),
        ...deniedResults,
      ],
    }));
  },

  [ApiKey.ListGroups]: (request, access) => {
    if (access.visible(R.CLUSTER, CLUSTER_RESOURCE_NAME, Op.DESCRIBE)) return pass(request);
    return pass(request, (response) => ({ ...response, groups: response.groups.filter((g) => access.visible(R.GROUP, g.groupId, Op.DESCRIBE)) }));
  },

  [ApiKey.DeleteGroups]: (request, access) => {
    const [groupsNames, denied] = split(request.groupsNames, (groupId) => access.allowed(R.GROUP, groupId, Op.DELETE));
    const deniedResults = denied.map((groupId) => ({ groupId, errorCode: GROUP_DENIED }));
    if (groupsNames.length === 0) return deny({ throttleTimeMs: 0, results: deniedResults });
    return pass({ groupsNames }, (response) => ({ ...response, results: [...response.results, ...deniedResults] }));
  },

  [ApiKey.OffsetDelete]: (request, access) => {
    if (!access.allowed(R.GROUP, request.groupId, Op.DELETE)) return deny({ errorCode: GROUP_DENIED, throttleTimeMs: 0, topics: [] });
    const [topics, denied] = split(request.topics, topicAllowed(access, Op.READ));
    const deniedResults = denied.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: TOPIC_DENIED })) }));
    return pass({ ...request, topics }, (response) => ({ ...response, topics: [...response.topics, ...deniedResults] }));
  },

  [ApiKey.InitProducerId]: (request, access) => {
    // An idempotent producer without a transactional id: Cluster IdempotentWrite, or Write on any topic (KIP-679).
    const allowed =
      request.transactionalId === null
        ? access.mayWriteSomeTopic() || access.cluster(Op.IDEMPOTENT_WRITE)
        : access.allowed(R.TRANSACTIONAL_ID, request.transactionalId, Op.WRITE);
    if (allowed) return pass(request);
    return deny({ throttleTimeMs: 0, errorCode: request.transactionalId === null ? CLUSTER_DENIED : TXN_DENIED, producerId: -1n, producerEpoch: -1 });
  },

  [ApiKey.AddPartitionsToTxn]: (request, access) => {
    // v0-v3 (what the broker serves): one transaction, every partition answered.
    const results = (errorFor: (topic: string) => number) =>
      request.v3AndBelowTopics.map((t) => ({
        name: t.name,
        resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: errorFor(t.name) })),
      }));
    const response = (errorFor: (topic: string) => number) => ({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction: [], resultsByTopicV3AndBelow: results(errorFor) });
    if (!access.allowed(R.TRANSACTIONAL_ID, request.v3AndBelowTransactionalId, Op.WRITE)) return deny(response(() => TXN_DENIED));
    const denied = new Set(request.v3AndBelowTopics.filter((t) => !access.allowed(R.TOPIC, t.name, Op.WRITE)).map((t) => t.name));
    if (denied.size === 0) return pass(request);
    // As Kafka: when any partition is refused, none is added and the others are OPERATION_NOT_ATTEMPTED.
    return deny(response((topic) => (denied.has(topic) ? TOPIC_DENIED : ErrorCode.OPERATION_NOT_ATTEMPTED)));
  },

  [ApiKey.AddOffsetsToTxn]: (request, access) => {
    if (!access.allowed(R.TRANSACTIONAL_ID, request.transactionalId, Op.WRITE)) return deny({ throttleTimeMs: 0, errorCode: TXN_DENIED });
    if (!access.allowed(R.GROUP, request.groupId, Op.READ)) return deny({ throttleTimeMs: 0, errorCode: GROUP_DENIED });
    return pass(request);
  },

  [ApiKey.EndTxn]: (request, access) =>
    access.allowed(R.TRANSACTIONAL_ID, request.transactionalId, Op.WRITE)
      ? pass(request)
      : deny({ throttleTimeMs: 0, errorCode: TXN_DENIED, producerId: -1n, producerEpoch: -1 }),

  [ApiKey.TxnOffsetCommit]: (request, access) => {
    const allDenied = (errorCode: number, topics: typeof request.topics) =>
      topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) }));
    if (!access.allowed(R.TRANSACTIONAL_ID, request.transactionalId, Op.WRITE)) return deny({ throttleTimeMs: 0, topics: allDenied(TXN_DENIED, request.topics) });
    if (!access.allowed(R.GROUP, request.groupId, Op.READ)) return deny({ throttleTimeMs: 0, topics: allDenied(GROUP_DENIED, request.topics) });
    const [topics, denied] = split(request.topics, topicAllowed(access, Op.READ));
    return pass({ ...request, topics }, (response) => ({ ...response, topics: [...response.topics, ...allDenied(TOPIC_DENIED, denied)] }));
  },

  [ApiKey.CreateAcls]: (request, access) =>
    access.cluster(Op.ALTER)
      ? pass(request)
      : deny({ throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode: CLUSTER_DENIED, errorMessage: 'Authorization failed.' })) }),

  [ApiKey.DeleteAcls]: (request, access) =>
    access.cluster(Op.ALTER)
      ? pass(request)
      : deny({ throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode: CLUSTER_DENIED, errorMessage: 'Authorization failed.', matchingAcls: [] })) }),

  [ApiKey.DescribeAcls]: (request, access) =>
    access.cluster(Op.DESCRIBE) ? pass(request) : deny({ throttleTimeMs: 0, errorCode: CLUSTER_DENIED, errorMessage: 'Authorization failed.', resources: [] }),

  // Credentials are cluster resources in Kafka: Alter to change them, Describe to list them.
  [ApiKey.AlterUserScramCredentials]: (request, access) =>
    access.cluster(Op.ALTER)
      ? pass(request)
      : deny({
          throttleTimeMs: 0,
          results: [...new Set([...request.deletions, ...request.upsertions].map((c) => c.name))].map((user) => ({ user, errorCode: CLUSTER_DENIED, errorMessage: 'Authorization failed.' })),
        }),

  [ApiKey.DescribeUserScramCredentials]: (request, access) =>
    access.cluster(Op.DESCRIBE) ? pass(request) : deny({ throttleTimeMs: 0, errorCode: CLUSTER_DENIED, errorMessage: 'Authorization failed.', results: [] }),

  ...shareApiGuards,
};
