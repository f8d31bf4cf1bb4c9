import { ApiKey, type FetchResponseFetchableTopicResponse, type FetchResponsePartitionData } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { type FetchPartition, IsolationLevel } from '../../fetch/fetch-types.ts';
import type { ApiHandler } from '../api-handler.ts';

/** Kafka has no cap, but timers overflow past 2^31-1 ms; a parked fetch never waits longer than this. */
const MAX_WAIT_CAP_MS = 300_000;

const NO_EPOCH_END_OFFSET = { epoch: -1, endOffset: -1n } as const;
const NO_LEADER = { leaderId: -1, leaderEpoch: -1 } as const;
const NO_SNAPSHOT = { endOffset: -1n, epoch: -1 } as const;
/** Fetch v13 replaced topic names with topic ids. */
const FIRST_TOPIC_ID_VERSION = 13;

function unknownTopicId(partitionIndex: number): FetchResponsePartitionData {
  return {
    partitionIndex,
    errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: NO_EPOCH_END_OFFSET,
    currentLeader: NO_LEADER,
    snapshotId: NO_SNAPSHOT,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: null,
  };
}

/**
 * Fetch without fetch sessions: the broker answers session id 0, which tells clients to send full
 * fetch requests every time (KIP-227); a request naming a session id is told it does not exist.
 * v15's replica state and v17's replica directory id concern followers, which a single-node broker
 * has none of; v16's node endpoints (leader discovery) stay empty, as this node leads everything.
 */
export const fetchHandler: ApiHandler<typeof ApiKey.Fetch> = {
  apiKey: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(request, { broker, connection, apiVersion }) {
    if (request.sessionId !== 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
        nodeEndpoints: [],
      };
    }
    // v13+ names topics by id (KIP-516); an id no topic has is answered UNKNOWN_TOPIC_ID per partition.
    const byId = apiVersion >= FIRST_TOPIC_ID_VERSION;
    const names = request.topics.map((topic) => (byId ? broker.topicNameById(topic.topicId) : topic.topic));
    const partitions: FetchPartition[] = [];
    request.topics.forEach((topic, t) => {
      const name = names[t];
      if (name === undefined) return;
      for (const p of topic.partitions) {
        partitions.push({
          topic: name,
          partition: p.partition,
          fetchOffset: Number(p.fetchOffset),
          partitionMaxBytes: Math.max(0, p.partitionMaxBytes),
        });
      }
    });
    const readCommitted = request.isolationLevel === IsolationLevel.readCommitted;
    // A partition in error answers the fetch at once, as an unknown topic id does.
    const unknownId = names.includes(undefined);
    const results = await broker.fetch(
      {
        partitions,
        maxWaitMs: unknownId ? 0 : Math.min(Math.max(0, request.maxWaitMs), MAX_WAIT_CAP_MS),
        minBytes: Math.max(0, request.minBytes),
        maxBytes: Math.max(0, request.maxBytes),
        isolationLevel: readCommitted ? IsolationLevel.readCommitted : IsolationLevel.readUncommitted,
      },
      connection.closed,
    );
    const responses: FetchResponseFetchableTopicResponse[] = [];
    let i = 0;
    request.topics.forEach((topic, t) => {
      const data: FetchResponsePartitionData[] = [];
      if (names[t] === undefined) {
        for (const p of topic.partitions) data.push(unknownTopicId(p.partition));
        responses.push({ topic: topic.topic, topicId: topic.topicId, partitions: data });
        return;
      }
      for (const p of topic.partitions) {
        const result = results[i++]!;
        data.push({
          partitionIndex: p.partition,
          errorCode: result.error?.code ?? 0,
          highWatermark: BigInt(result.highWatermark),
          lastStableOffset: BigInt(result.lastStableOffset),
          logStartOffset: BigInt(result.logStartOffset),
          divergingEpoch: NO_EPOCH_END_OFFSET,
          currentLeader: NO_LEADER,
          snapshotId: NO_SNAPSHOT,
          abortedTransactions: readCommitted
            ? result.abortedTransactions.map((txn) => ({ producerId: BigInt(txn.producerId), firstOffset: BigInt(txn.firstOffset) }))
            : null,
          preferredReadReplica: -1,
          records: result.records,
        });
      }
      responses.push({ topic: topic.topic, topicId: topic.topicId, partitions: data });
    });
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses, nodeEndpoints: [] };
  },
};
