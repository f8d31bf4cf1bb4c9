/**
 * Kafka's ACL model: an ACL binds a resource pattern (type, name, LITERAL or PREFIXED) to an entry
 * (principal, host, operation, ALLOW or DENY). The codes are Kafka's, shared with the SDK.
 */
import { AclOperation, type AclOperationValue, AclPermission, PatternType, ResourceType, type ResourceTypeValue } from '../../sdk/protocol/acl-codes.ts';

export { AclOperation, type AclOperationValue, AclPermission, type AclPermissionValue, PatternType, type PatternTypeValue, ResourceType, type ResourceTypeValue } from '../../sdk/protocol/acl-codes.ts';

/** The only name a Cluster resource has in Kafka. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
/** A LITERAL resource name matching every resource of its type. */
export const WILDCARD_RESOURCE = '*';
export const WILDCARD_HOST = '*';

export interface Principal {
  type: string;
  name: string;
}

export const ANONYMOUS: Principal = Object.freeze({ type: 'User', name: 'ANONYMOUS' });

export function formatPrincipal(principal: Principal): string {
  return `${principal.type}:${principal.name}`;
}

/** `User:alice` → { type: 'User', name: 'alice' }; undefined when there is no type or no name. */
export function parsePrincipal(text: string): Principal | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return undefined;
  return { type: text.slice(0, colon), name: text.slice(colon + 1) };
}

/** One ACL as stored and as the wire carries it (principal in `Type:name` form). */
export interface AclBinding {
  resourceType: ResourceTypeValue;
  resourceName: string;
  patternType: typeof PatternType.LITERAL | typeof PatternType.PREFIXED;
  principal: string;
  host: string;
  operation: AclOperationValue;
  permissionType: typeof AclPermission.ALLOW | typeof AclPermission.DENY;
}

/** What DescribeAcls and DeleteAcls select by; null fields and ANY codes match everything. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

const CONCRETE_RESOURCE_TYPES: ReadonlySet<number> = new Set([ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER, ResourceType.TRANSACTIONAL_ID]);
const CONCRETE_OPERATIONS: ReadonlySet<number> = new Set(
  Object.values(AclOperation).filter((op) => op !== AclOperation.UNKNOWN && op !== AclOperation.ANY),
);

/** Why a binding cannot be created (Kafka answers INVALID_REQUEST with this message), or undefined when it is valid. */
export function invalidBindingReason(binding: {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}): string | undefined {
  if (!CONCRETE_RESOURCE_TYPES.has(binding.resourceType)) return `unsupported resource type ${binding.resourceType}`;
  if (binding.patternType !== PatternType.LITERAL && binding.patternType !== PatternType.PREFIXED) return `invalid pattern type ${binding.patternType}`;
  if (binding.resourceName === '') return 'resource name must not be empty';
  if (binding.resourceType === ResourceType.CLUSTER && binding.resourceName !== CLUSTER_RESOURCE_NAME) {
    return `the cluster resource is named ${CLUSTER_RESOURCE_NAME}`;
  }
  if (parsePrincipal(binding.principal) === undefined) return `invalid principal ${JSON.stringify(binding.principal)}: expected Type:name`;
  if (binding.host === '') return 'host must not be empty';
  if (!CONCRETE_OPERATIONS.has(binding.operation)) return `invalid operation ${binding.operation}`;
  if (binding.permissionType !== AclPermission.ALLOW && binding.permissionType !== AclPermission.DENY) return `invalid permission type ${binding.permissionType}`;
  return undefined;
}

/** Why a filter is malformed (UNKNOWN codes), or undefined. */
export function invalidFilterReason(filter: AclBindingFilter): string | undefined {
  if (filter.resourceType === ResourceType.UNKNOWN) return 'resource type filter is UNKNOWN';
  if (filter.patternType === PatternType.UNKNOWN) return 'pattern type filter is UNKNOWN';
  if (filter.operation === AclOperation.UNKNOWN) return 'operation filter is UNKNOWN';
  if (filter.permissionType === AclPermission.UNKNOWN) return 'permission type filter is UNKNOWN';
  return undefined;
}

/** Kafka's ResourcePatternFilter.matches, plus the entry fields of AccessControlEntryFilter. */
export function filterMatches(filter: AclBindingFilter, acl: AclBinding): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== acl.resourceType) return false;
  if (filter.principal !== null && filter.principal !== acl.principal) return false;
  if (filter.host !== null && filter.host !== acl.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== acl.operation) return false;
  if (filter.permissionType !== AclPermission.ANY && filter.permissionType !== acl.permissionType) return false;
  if (filter.patternType === PatternType.MATCH) {
    // MATCH: every pattern that would apply to a resource named resourceName.
    if (filter.resourceName === null) return true;
    if (acl.patternType === PatternType.LITERAL) return acl.resourceName === filter.resourceName || acl.resourceName === WILDCARD_RESOURCE;
    return filter.resourceName.startsWith(acl.resourceName);
  }
  if (filter.patternType !== PatternType.ANY && filter.patternType !== acl.patternType) return false;
  return filter.resourceName === null || filter.resourceName === acl.resourceName;
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permissionType === b.permissionType
  );
}
