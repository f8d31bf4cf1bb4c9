import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import type { ApiHandler } from '../api-handler.ts';

/** Kafka's coordinator key types: 0 a consumer group, 1 a transactional id. */
const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

/** FindCoordinator v0-v4: this single node coordinates every group and transactional id. */
export const findCoordinatorHandler: ApiHandler<typeof ApiKey.FindCoordinator> = {
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { apiVersion, advertised }) {
    const supported = request.keyType === KEY_TYPE_GROUP || request.keyType === KEY_TYPE_TRANSACTION;
    const errorCode = supported ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST;
    const errorMessage = supported ? null : `unsupported coordinator key type ${request.keyType}`;
    const node = supported
      ? { nodeId: advertised.nodeId, host: advertised.host, port: advertised.port }
      : { nodeId: -1, host: '', port: -1 };
    if (apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        nodeId: 0,
        host: '',
        port: 0,
        coordinators: request.coordinatorKeys.map((key) => ({ key, ...node, errorCode, errorMessage })),
      };
    }
    return { throttleTimeMs: 0, errorCode, errorMessage, ...node, coordinators: [] };
  },
};
