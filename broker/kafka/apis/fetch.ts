import { ApiKey, type FetchResponseFetchableTopicResponse, type FetchResponsePartitionData, ZERO_UUID } from '../../../sdk/protocol/mod.ts';
import type { ResponseBodies } from '../../../sdk/protocol/messages/registry.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import type { FetchSession, SessionPartition } from '../../fetch/fetch-session-cache.ts';
import { type FetchPartition, IsolationLevel } from '../../fetch/fetch-types.ts';
import type { ApiHandler } from '../api-handler.ts';

/** Kafka has no cap, but timers overflow past 2^31-1 ms; a parked fetch never waits longer than this. */
const MAX_WAIT_CAP_MS = 300_000;

const NO_EPOCH_END_OFFSET = { epoch: -1, endOffset: -1n } as const;
const NO_LEADER = { leaderId: -1, leaderEpoch: -1 } as const;
const NO_SNAPSHOT = { endOffset: -1n, epoch: -1 } as const;
/** Fetch v13 replaced topic names with topic ids. */
const FIRST_TOPIC_ID_VERSION = 13;
/** KIP-227's session epochs: -1 asks for no session (or closes one), 0 opens one. */
const FINAL_EPOCH = -1;
const INITIAL_EPOCH = 0;

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

/** A partition a fetch reads: named by the request, or followed by the fetch session. */
interface WantedPartition {
  /** The topic as the consumer names it: its name before v13, its id from v13 on. */
  topicKey: string;
  /** undefined: a topic id no topic has. */
  name: string | undefined;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  /** The session's entry, when a session follows the partition. */
  entry: SessionPartition | undefined;
}

function sessionError(errorCode: number): ResponseBodies[typeof ApiKey.Fetch] {
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [], nodeEndpoints: [] };
}

/** Whether an incremental response must carry the partition: records, an error, or offsets the consumer has not been told yet. */
function changed(entry: SessionPartition, data: FetchResponsePartitionData): boolean {
  return (
    data.records !== null && data.records.byteLength > 0 ||
    data.errorCode !== 0 ||
    BigInt(entry.highWatermark) !== data.highWatermark ||
    BigInt(entry.lastStableOffset) !== data.lastStableOffset ||
    BigInt(entry.logStartOffset) !== data.logStartOffset
  );
}

/**
 * Fetch, with fetch sessions (KIP-227). Epoch -1 (FINAL) is a sessionless full fetch (closing the
 * named session, if any); epoch 0 (INITIAL) is a full fetch that opens a session over its partitions
 * (answering session id 0 when the cache has no room: the consumer then goes without); a later epoch
 * is an incremental fetch of the session: the request carries only partitions added or changed
 * (fetch offset, max bytes) and forgotten ones, and the response only partitions with records, an
 * error, or a high watermark, last stable offset or log start offset the consumer has not seen. An
 * unknown session id answers FETCH_SESSION_ID_NOT_FOUND, a wrong epoch INVALID_FETCH_SESSION_EPOCH;
 * either way the consumer starts over with a full fetch.
 *
 * v15's replica state and v17's replica directory id concern followers, which a single-node broker
 * has none of; v16's node endpoints (leader discovery) stay empty, as this node leads everything.
 */
export const fetchHandler: ApiHandler<typeof ApiKey.Fetch> = {
  apiKey: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(request, { broker, connection, apiVersion }) {
    // v13+ names topics by id (KIP-516); an id no topic has is answered UNKNOWN_TOPIC_ID per partition.
    const byId = apiVersion >= FIRST_TOPIC_ID_VERSION;
    const sessions = broker.fetchSessions;
    const { sessionId, sessionEpoch } = request;
    let session: FetchSession | undefined;
    let incremental = false;
    if (sessionEpoch === FINAL_EPOCH || sessionEpoch === INITIAL_EPOCH) {
      if (sessionId !== 0) sessions.remove(sessionId);
      if (sessionEpoch === INITIAL_EPOCH) session = sessions.create();
    } else {
      if (sessionId === 0) return sessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      session = sessions.touch(sessionId);
      if (session === undefined) return sessionError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      if (session.epoch !== sessionEpoch) return sessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      incremental = true;
    }
    for (const topic of request.topics) {
      const topicKey = byId ? topic.topicId : topic.topic;
      for (const p of topic.partitions) session?.upsert(topicKey, p.partition, Number(p.fetchOffset), Math.max(0, p.partitionMaxBytes));
    }
    if (incremental) {
      for (const forgotten of request.forgottenTopicsData) {
        for (const partition of forgotten.partitions) session!.forget(byId ? forgotten.topicId : forgotten.topic, partition);
      }
      session!.advanceEpoch();
    }
    const nameOf = (topicKey: string): string | undefined => (byId ? broker.topicNameById(topicKey) : topicKey);
    const wanted: WantedPartition[] = [];
    if (session !== undefined) {
      for (const entry of session.partitions.values()) wanted.push({ ...entry, name: nameOf(entry.topicKey), entry });
    } else {
      for (const topic of request.topics) {
        const topicKey = byId ? topic.topicId : topic.topic;
        const name = nameOf(topicKey);
        for (const p of topic.partitions) {
          wanted.push({ topicKey, name, partition: p.partition, fetchOffset: Number(p.fetchOffset), partitionMaxBytes: Math.max(0, p.partitionMaxBytes), entry: undefined });
        }
      }
    }
    const partitions: FetchPartition[] = [];
    for (const w of wanted) {
      if (w.name !== undefined) partitions.push({ topic: w.name, partition: w.partition, fetchOffset: w.fetchOffset, partitionMaxBytes: w.partitionMaxBytes });
    }
    const readCommitted = request.isolationLevel === IsolationLevel.readCommitted;
    // A partition in error answers the fetch at once, as an unknown topic id does.
    const unknownId = wanted.some((w) => w.name === undefined);
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
    const byTopic = new Map<string, FetchResponseFetchableTopicResponse>();
    const returnedRecords: SessionPartition[] = [];
    let i = 0;
    for (const w of wanted) {
      let data: FetchResponsePartitionData;
      if (w.name === undefined) {
        data = unknownTopicId(w.partition);
      } else {
        const result = results[i++]!;
        data = {
          partitionIndex: w.partition,
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
        };
      }
      const entry = w.entry;
      if (entry !== undefined) {
        if (incremental && !changed(entry, data)) continue;
        entry.highWatermark = Number(data.highWatermark);
        entry.lastStableOffset = Number(data.lastStableOffset);
        entry.logStartOffset = Number(data.logStartOffset);
        if (data.records !== null && data.records.byteLength > 0) returnedRecords.push(entry);
      }
      let topic = byTopic.get(w.topicKey);
      if (topic === undefined) {
        topic = { topic: byId ? '' : w.topicKey, topicId: byId ? w.topicKey : ZERO_UUID, partitions: [] };
        byTopic.set(w.topicKey, topic);
      }
      topic.partitions.push(data);
    }
    for (const entry of returnedRecords) session!.moveToEnd(entry);
    return { throttleTimeMs: 0, errorCode: 0, sessionId: session?.id ?? 0, responses: [...byTopic.values()], nodeEndpoints: [] };
  },
};
