import { ApiKey } from '../../protocol/mod.ts';
import {
  AclOperation,
  type AclOperationValue,
  AclPermission,
  type AclPermissionValue,
  PatternType,
  type PatternTypeValue,
  ResourceType,
  type ResourceTypeValue,
} from '../../protocol/acl-codes.ts';
import type { Transport } from '../../transport/transport.ts';
import { throwIfError } from '../error-from-code.ts';

/** One ACL: who (`User:alice`, `User:*`) may or may not do what, from which host (`*` for any), on which resources. */
export interface AclEntry {
  resourceType: ResourceTypeValue;
  resourceName: string;
  patternType: typeof PatternType.LITERAL | typeof PatternType.PREFIXED;
  principal: string;
  host: string;
  operation: AclOperationValue;
  permission: typeof AclPermission.ALLOW | typeof AclPermission.DENY;
}

/** Selects ACLs; an absent field matches any value. `patternType` MATCH selects every pattern that applies to `resourceName`. */
export interface AclFilter {
  resourceType?: ResourceTypeValue;
  resourceName?: string;
  patternType?: PatternTypeValue;
  principal?: string;
  host?: string;
  operation?: AclOperationValue;
  permission?: AclPermissionValue;
}

function filterFields(filter: AclFilter) {
  return {
    resourceTypeFilter: filter.resourceType ?? ResourceType.ANY,
    resourceNameFilter: filter.resourceName ?? null,
    patternTypeFilter: filter.patternType ?? PatternType.ANY,
    principalFilter: filter.principal ?? null,
    hostFilter: filter.host ?? null,
    operation: filter.operation ?? AclOperation.ANY,
    permissionType: filter.permission ?? AclPermission.ANY,
  };
}

function entry(fields: { resourceType: number; resourceName: string; patternType: number; principal: string; host: string; operation: number; permissionType: number }): AclEntry {
  return {
    resourceType: fields.resourceType as ResourceTypeValue,
    resourceName: fields.resourceName,
    patternType: fields.patternType as AclEntry['patternType'],
    principal: fields.principal,
    host: fields.host,
    operation: fields.operation as AclOperationValue,
    permission: fields.permissionType as AclEntry['permission'],
  };
}

/**
 * CreateAcls, DescribeAcls and DeleteAcls (v1+, the first with prefixed patterns). Failures throw
 * the broker's error: SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED
 * without Cluster Alter/Describe, INVALID_REQUEST for a malformed entry or filter.
 */
export class AclAdmin {
  constructor(private readonly transport: Transport) {}

  async createAcls(acls: readonly AclEntry[]): Promise<void> {
    const version = await this.transport.apiVersion(ApiKey.CreateAcls);
    const response = await this.transport.send(ApiKey.CreateAcls, version, {
      creations: acls.map((acl) => ({
        resourceType: acl.resourceType,
        resourceName: acl.resourceName,
        resourcePatternType: acl.patternType,
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permission,
      })),
    });
    response.results.forEach((r, i) => throwIfError(r.errorCode, `create ACL ${JSON.stringify(acls[i])}`, r.errorMessage));
  }

  async describeAcls(filter: AclFilter = {}): Promise<AclEntry[]> {
    const version = await this.transport.apiVersion(ApiKey.DescribeAcls);
    const response = await this.transport.send(ApiKey.DescribeAcls, version, filterFields(filter));
    throwIfError(response.errorCode, 'describe ACLs', response.errorMessage);
    return response.resources.flatMap((resource) =>
      resource.acls.map((acl) => entry({ ...acl, resourceType: resource.resourceType, resourceName: resource.resourceName, patternType: resource.patternType })),
    );
  }

  /** Deletes every ACL any filter matches; returns the deleted ones. */
  async deleteAcls(filters: readonly AclFilter[]): Promise<AclEntry[]> {
    const version = await this.transport.apiVersion(ApiKey.DeleteAcls);
    const response = await this.transport.send(ApiKey.DeleteAcls, version, { filters: filters.map(filterFields) });
    const deleted: AclEntry[] = [];
    for (const result of response.filterResults) {
      throwIfError(result.errorCode, 'delete ACLs', result.errorMessage);
      for (const acl of result.matchingAcls) {
        throwIfError(acl.errorCode, 'delete ACL', acl.errorMessage);
        deleted.push(entry(acl));
      }
    }
    return deleted;
  }
}
