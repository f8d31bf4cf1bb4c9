import { AclOperation as Op, type AclOperationValue, ResourceType as R } from './acl.ts';
import type { RequestAccess } from './request-access.ts';

/** Kafka's "authorized operations not requested" marker (Int.MinValue), the schemas' default. */
export const AUTHORIZED_OPERATIONS_NOT_REQUESTED = -2147483648;

type AuthorizableResourceType = typeof R.TOPIC | typeof R.GROUP | typeof R.CLUSTER;

/** The operations each resource type supports, as Kafka's AclEntry.supportedOperations lists them. */
const SUPPORTED_OPERATIONS: Readonly<Record<AuthorizableResourceType, readonly AclOperationValue[]>> = {
  [R.TOPIC]: [Op.READ, Op.WRITE, Op.CREATE, Op.DESCRIBE, Op.DELETE, Op.ALTER, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS],
  [R.GROUP]: [Op.READ, Op.DESCRIBE, Op.DELETE],
  [R.CLUSTER]: [Op.CREATE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE, Op.ALTER, Op.DESCRIBE],
};

function bitField(operations: readonly AclOperationValue[]): number {
  let bits = 0;
  for (const code of operations) bits |= 1 << code;
  return bits;
}

/**
 * The `authorizedOperations` Kafka answers in Metadata, DescribeGroups and DescribeCluster when
 * asked: a 32-bit field with bit `code` set for each AclOperation the principal may perform on the
 * resource (Kafka's Utils.to32BitField). Without an authorizer every supported operation is
 * allowed, as in Kafka. Computing it is not an access attempt, so nothing is audited.
 */
export function authorizedOperations(access: RequestAccess | undefined, resourceType: AuthorizableResourceType, resourceName: string): number {
  const supported = SUPPORTED_OPERATIONS[resourceType];
  if (access === undefined) return bitField(supported);
  return bitField(supported.filter((operation) => access.visible(resourceType, resourceName, operation)));
}
