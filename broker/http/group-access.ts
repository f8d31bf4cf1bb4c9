import { AclOperation, type AclOperationValue, CLUSTER_RESOURCE_NAME, ResourceType } from '../auth/acl.ts';
import { type Principal, tokenAllows } from './http-auth.ts';
import { HttpProblem } from './problem.ts';

/**
 * The broker's group ACLs on the HTTP group routes, checked as the Kafka APIs doing the same check
 * them (broker/auth/kafka-api-guards.ts): describing a group is DescribeGroups and OffsetFetch
 * (Group Describe; offsets only of topics the caller may Describe), committing or resetting
 * offsets is OffsetCommit (Group Read), listing is ListGroups (Cluster Describe, or each group's
 * Describe). Tokens name topics only, so without the broker's authorizer groups are open.
 */
const OPERATION_NAMES: Partial<Record<AclOperationValue, string>> = {
  [AclOperation.READ]: 'read',
  [AclOperation.DESCRIBE]: 'describe',
  [AclOperation.DELETE]: 'delete',
};

/** Checks a group operation; a refusal (audited) is a 403 carrying GROUP_AUTHORIZATION_FAILED. */
export function authorizeGroup(principal: Principal, group: string, operation: AclOperationValue): void {
  const access = principal.kafkaAccess;
  if (access === undefined || access.allowed(ResourceType.GROUP, group, operation)) return;
  throw new HttpProblem('forbidden', `"${principal.name}" may not ${OPERATION_NAMES[operation] ?? `perform operation ${operation} on`} group "${group}"`, {
    kafkaError: 'GROUP_AUTHORIZATION_FAILED',
  });
}

/** Whether a group shows in the caller's group listing (not audited, as Kafka's ListGroups filter is not). */
export function groupListed(principal: Principal, group: string): boolean {
  const access = principal.kafkaAccess;
  if (access === undefined) return true;
  return access.visible(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE) || access.visible(ResourceType.GROUP, group, AclOperation.DESCRIBE);
}

/** Whether a group's committed offset on a topic is shown: the token's `read` and the broker's Topic Describe. */
export function offsetShown(principal: Principal, topic: string): boolean {
  if (!tokenAllows(principal, 'read', topic)) return false;
  return principal.kafkaAccess?.visible(ResourceType.TOPIC, topic, AclOperation.DESCRIBE) ?? true;
}
