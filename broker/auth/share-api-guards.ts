import { ApiKey, type ShareFetchResponse } from '../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import type { Broker } from '../broker.ts';
import { AclOperation as Op, ResourceType as R } from './acl.ts';
import type { GuardTable } from './kafka-api-guards.ts';
import type { RequestAccess } from './request-access.ts';

const GROUP_DENIED = ErrorCode.GROUP_AUTHORIZATION_FAILED;
const TOPIC_DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED;

type TopicResponses = ShareFetchResponse['responses'];

function readable(access: RequestAccess, broker: Broker, topicId: string): boolean {
  return access.allowed(R.TOPIC, broker.topicNameById(topicId) ?? '', Op.READ);
}

/** Topics the principal may read and the rest, each checked (and audited) once. */
function splitReadable<T extends { topicId: string }>(topics: readonly T[], access: RequestAccess, broker: Broker): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const t of topics) (readable(access, broker, t.topicId) ? yes : no).push(t);
  return [yes, no];
}

function deniedPartition(partitionIndex: number): TopicResponses[number]['partitions'][number] {
  return {
    partitionIndex,
    errorCode: TOPIC_DENIED,
    errorMessage: 'Authorization failed.',
    acknowledgeErrorCode: TOPIC_DENIED,
    acknowledgeErrorMessage: 'Authorization failed.',
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    records: null,
    acquiredRecords: [],
  };
}

/**
 * Share groups as Kafka checks them: the group needs READ for every share API; ShareFetch and
 * ShareAcknowledge need READ on each topic, and a denied topic is answered
 * TOPIC_AUTHORIZATION_FAILED without being read or acknowledged; ShareGroupHeartbeat needs
 * DESCRIBE on each subscribed topic; ShareGroupDescribe needs DESCRIBE on each group. A share session answers partitions from earlier requests
 * too, so ShareFetch's response is checked as well.
 */
export const shareApiGuards: GuardTable = {
  [ApiKey.ShareGroupHeartbeat]: (request, access) => {
    const deny = (errorCode: number) => ({
      kind: 'deny' as const,
      response: { throttleTimeMs: 0, errorCode, errorMessage: 'Authorization failed.', memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null },
    });
    if (!access.allowed(R.GROUP, request.groupId, Op.READ)) return deny(GROUP_DENIED);
    if ((request.subscribedTopicNames ?? []).some((t) => !access.allowed(R.TOPIC, t, Op.DESCRIBE))) return deny(TOPIC_DENIED);
    return { kind: 'pass', request };
  },

  [ApiKey.ShareGroupDescribe]: (request, access) => {
    const groupIds: string[] = [];
    const denied: string[] = [];
    for (const g of request.groupIds) (access.allowed(R.GROUP, g, Op.DESCRIBE) ? groupIds : denied).push(g);
    return {
      kind: 'pass',
      request: { ...request, groupIds },
      finish: (response) => ({
        ...response,
        groups: [
          ...response.groups,
          ...denied.map((groupId) => ({
            errorCode: GROUP_DENIED,
            errorMessage: 'Authorization failed.',
            groupId,
            groupState: '',
            groupEpoch: -1,
            assignmentEpoch: -1,
            assignorName: '',
            members: [],
            authorizedOperations: -2147483648,
          })),
        ],
      }),
    };
  },

  [ApiKey.ShareFetch]: (request, access, { broker }) => {
    const endpoints = [] as ShareFetchResponse['nodeEndpoints'];
    if (!access.allowed(R.GROUP, request.groupId ?? '', Op.READ)) {
      return { kind: 'deny', response: { throttleTimeMs: 0, errorCode: GROUP_DENIED, errorMessage: 'Authorization failed.', responses: [], nodeEndpoints: endpoints } };
    }
    const [topics, denied] = splitReadable(request.topics, access, broker);
    return {
      kind: 'pass',
      request: { ...request, topics },
      finish: (response) => ({
        ...response,
        responses: [
          ...response.responses.map((t) => (access.visible(R.TOPIC, broker.topicNameById(t.topicId) ?? '', Op.READ) ? t : { topicId: t.topicId, partitions: t.partitions.map((p) => deniedPartition(p.partitionIndex)) })),
          ...denied.map((t) => ({ topicId: t.topicId, partitions: t.partitions.map((p) => deniedPartition(p.partitionIndex)) })),
        ],
      }),
    };
  },

  [ApiKey.ShareAcknowledge]: (request, access, { broker }) => {
    if (!access.allowed(R.GROUP, request.groupId ?? '', Op.READ)) {
      return { kind: 'deny', response: { throttleTimeMs: 0, errorCode: GROUP_DENIED, errorMessage: 'Authorization failed.', responses: [], nodeEndpoints: [] } };
    }
    const [topics, denied] = splitReadable(request.topics, access, broker);
    const deniedAck = (partitionIndex: number) => ({ partitionIndex, errorCode: TOPIC_DENIED, errorMessage: 'Authorization failed.', currentLeader: { leaderId: -1, leaderEpoch: -1 } });
    return {
      kind: 'pass',
      request: { ...request, topics },
      finish: (response) => ({ ...response, responses: [...response.responses, ...denied.map((t) => ({ topicId: t.topicId, partitions: t.partitions.map((p) => deniedAck(p.partitionIndex)) }))] }),
    };
  },
};
