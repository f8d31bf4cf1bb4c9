import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';
import { acknowledgementBatches, shareTopicResponses } from './share-fetch.ts';

/** ShareAcknowledge v0 (KIP-932): ACCEPT, RELEASE, REJECT (and GAP) outside a fetch; epoch -1 closes the session. */
export const shareAcknowledgeHandler: ApiHandler<typeof ApiKey.ShareAcknowledge> = {
  apiKey: ApiKey.ShareAcknowledge,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, advertised }) {
    const answer = await broker.shareGroups.shareAcknowledge({
      groupId: request.groupId,
      memberId: request.memberId,
      shareSessionEpoch: request.shareSessionEpoch,
      partitions: request.topics.flatMap((t) => t.partitions.map((p) => ({ topicId: t.topicId, partition: p.partitionIndex, acknowledgementBatches: acknowledgementBatches(p.acknowledgementBatches) }))),
    });
    return {
      throttleTimeMs: 0,
      errorCode: answer.errorCode,
      errorMessage: answer.errorMessage,
      responses: shareTopicResponses(answer.partitions, advertised).map((t) => ({
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: p.errorCode, errorMessage: p.errorMessage, currentLeader: p.currentLeader })),
      })),
      nodeEndpoints: [{ nodeId: advertised.nodeId, host: advertised.host, port: advertised.port, rack: null }],
    };
  },
};
