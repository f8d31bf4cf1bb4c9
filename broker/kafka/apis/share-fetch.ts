import { ApiKey, type ShareFetchResponse } from '../../../sdk/protocol/mod.ts';
import type { SharePartitionResult } from '../../share/share-types.ts';
import type { AdvertisedListener, ApiHandler } from '../api-handler.ts';

/** Long polls are cut here, as Fetch's are, so a parked request never outlives a client's timeout by much. */
const MAX_WAIT_CAP_MS = 30_000;

type ShareTopicResponses = ShareFetchResponse['responses'];

/** Groups partition results by topic id in the wire layout ShareFetch and ShareAcknowledge share. */
export function shareTopicResponses(partitions: readonly SharePartitionResult[], advertised: AdvertisedListener): ShareTopicResponses {
  const byTopic = new Map<string, ShareTopicResponses[number]>();
  for (const p of partitions) {
    let topic = byTopic.get(p.topicId);
    if (topic === undefined) byTopic.set(p.topicId, (topic = { topicId: p.topicId, partitions: [] }));
    topic.partitions.push({
      partitionIndex: p.partition,
      errorCode: p.errorCode,
      errorMessage: p.errorMessage,
      acknowledgeErrorCode: p.acknowledgeErrorCode,
      acknowledgeErrorMessage: p.acknowledgeErrorMessage,
      currentLeader: { leaderId: p.errorCode === 0 ? advertised.nodeId : -1, leaderEpoch: 0 },
      records: p.records,
      acquiredRecords: p.acquiredRecords.map((r) => ({ firstOffset: BigInt(r.firstOffset), lastOffset: BigInt(r.lastOffset), deliveryCount: r.deliveryCount })),
    });
  }
  return [...byTopic.values()];
}

/** The acknowledgement batches of a request, offsets as numbers (below 2^53 in any real log). */
export function acknowledgementBatches(batches: readonly { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }[]) {
  return batches.map((b) => ({ firstOffset: Number(b.firstOffset), lastOffset: Number(b.lastOffset), acknowledgeTypes: b.acknowledgeTypes }));
}

/** ShareFetch v0 (KIP-932): acknowledgements piggybacked, then records acquired under a lock. */
export const shareFetchHandler: ApiHandler<typeof ApiKey.ShareFetch> = {
  apiKey: ApiKey.ShareFetch,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, connection, advertised }) {
    const answer = await broker.shareGroups.shareFetch(
      {
        groupId: request.groupId,
        memberId: request.memberId,
        shareSessionEpoch: request.shareSessionEpoch,
        maxWaitMs: Math.min(Math.max(0, request.maxWaitMs), MAX_WAIT_CAP_MS),
        minBytes: request.minBytes,
        maxBytes: request.maxBytes,
        partitions: request.topics.flatMap((t) =>
          t.partitions.map((p) => ({ topicId: t.topicId, partition: p.partitionIndex, partitionMaxBytes: p.partitionMaxBytes, acknowledgementBatches: acknowledgementBatches(p.acknowledgementBatches) })),
        ),
        forgotten: request.forgottenTopicsData.flatMap((t) => t.partitions.map((partition) => ({ topicId: t.topicId, partition }))),
      },
      connection.closed,
    );
    return {
      throttleTimeMs: 0,
      errorCode: answer.errorCode,
      errorMessage: answer.errorMessage,
      responses: shareTopicResponses(answer.partitions, advertised),
      nodeEndpoints: [{ nodeId: advertised.nodeId, host: advertised.host, port: advertised.port, rack: null }],
    };
  },
};
