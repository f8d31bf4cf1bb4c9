import { AclOperation, type AclOperationValue, AclPermission, PatternType, ResourceType, type ResourceTypeValue } from '../../sdk/protocol/acl-codes.ts';

/** Kafka's ACL codes by the names the CLI takes and prints (lower case, dashes: `cluster-action`). */
function byName<T extends Record<string, number>, K extends keyof T & string>(codes: T, names: readonly K[]): ReadonlyMap<string, T[K]> {
  return new Map(names.map((name) => [name.toLowerCase().replace(/_/g, '-'), codes[name]!]));
}

export const RESOURCE_TYPES = byName(ResourceType, ['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN', 'USER']);
export const OPERATIONS = byName(AclOperation, ['ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE']);
export const PATTERN_TYPES = byName(PatternType, ['LITERAL', 'PREFIXED']);
/** A filter's pattern types also take `match` (every pattern that applies to the name) and `any`. */
export const FILTER_PATTERN_TYPES = byName(PatternType, ['LITERAL', 'PREFIXED', 'MATCH', 'ANY']);
export const PERMISSIONS = byName(AclPermission, ['ALLOW', 'DENY']);

/** The name of a code, for printing. */
export function nameOf(names: ReadonlyMap<string, number>, code: number): string {
  for (const [name, value] of names) if (value === code) return name;
  return String(code);
}

export type { AclOperationValue, ResourceTypeValue };
