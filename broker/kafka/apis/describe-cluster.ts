import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { CLUSTER_RESOURCE_NAME, ResourceType } from '../../auth/acl.ts';
import { AUTHORIZED_OPERATIONS_NOT_REQUESTED, authorizedOperations } from '../../auth/authorized-operations.ts';
import type { ApiHandler } from '../api-handler.ts';

/** DescribeCluster's endpoint types (KIP-919): the brokers, or the controllers (not served by a broker listener). */
const ENDPOINT_TYPE_BROKERS = 1;

/**
 * DescribeCluster v0-v1 (KIP-700): the cluster id, controller and brokers, which the Java admin
 * client's describeCluster() uses in place of Metadata. Asking for the controllers (v1 endpoint
 * type 2) is UNSUPPORTED_ENDPOINT_TYPE, as a Kafka broker answers. The authorized operations set
 * here are for a broker without an authorizer; the authorizer's guard replaces them.
 */
export const describeClusterHandler: ApiHandler<typeof ApiKey.DescribeCluster> = {
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { advertised, clusterId }) {
    const base = { throttleTimeMs: 0, endpointType: request.endpointType, clusterId, controllerId: advertised.nodeId };
    if (request.endpointType !== ENDPOINT_TYPE_BROKERS) {
      return {
        ...base,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: `endpoint type ${request.endpointType} is not served here: a broker describes its brokers (endpoint type 1)`,
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED,
      };
    }
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      brokers: [{ brokerId: advertised.nodeId, host: advertised.host, port: advertised.port, rack: null }],
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
        ? authorizedOperations(undefined, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
        : AUTHORIZED_OPERATIONS_NOT_REQUESTED,
    };
  },
};
