import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { type AclBinding, type AclBindingFilter, invalidBindingReason, invalidFilterReason } from '../../auth/acl.ts';
import type { AnyApiHandler, ApiHandler } from '../api-handler.ts';

const SECURITY_DISABLED_MESSAGE = 'no authorizer is configured on the broker';

/** CreateAcls v0-v3: each creation answered on its own (INVALID_REQUEST for a malformed one). */
export const createAclsHandler: ApiHandler<typeof ApiKey.CreateAcls> = {
  apiKey: ApiKey.CreateAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker }) {
    const authorizer = broker.authorizer;
    if (authorizer === undefined) {
      return { throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: SECURITY_DISABLED_MESSAGE })) };
    }
    const valid: AclBinding[] = [];
    const results = request.creations.map((creation) => {
      const binding = {
        resourceType: creation.resourceType,
        resourceName: creation.resourceName,
        patternType: creation.resourcePatternType,
        principal: creation.principal,
        host: creation.host,
        operation: creation.operation,
        permissionType: creation.permissionType,
      };
      const reason = invalidBindingReason(binding);
      if (reason !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: reason };
      valid.push(binding as AclBinding);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
    await authorizer.createAcls(valid);
    return { throttleTimeMs: 0, results };
  },
};

/** DescribeAcls v0-v3: bindings grouped by resource pattern, as Kafka answers them. */
export const describeAclsHandler: ApiHandler<typeof ApiKey.DescribeAcls> = {
  apiKey: ApiKey.DescribeAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker }) {
    const authorizer = broker.authorizer;
    if (authorizer === undefined) return { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: SECURITY_DISABLED_MESSAGE, resources: [] };
    const filter: AclBindingFilter = {
      resourceType: request.resourceTypeFilter,
      resourceName: request.resourceNameFilter,
      patternType: request.patternTypeFilter,
      principal: request.principalFilter,
      host: request.hostFilter,
      operation: request.operation,
      permissionType: request.permissionType,
    };
    const reason = invalidFilterReason(filter);
    if (reason !== undefined) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: reason, resources: [] };
    const resources = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: { principal: string; host: string; operation: number; permissionType: number }[] }>();
    for (const acl of authorizer.describeAcls(filter)) {
      const key = JSON.stringify([acl.resourceType, acl.resourceName, acl.patternType]);
      let resource = resources.get(key);
      if (resource === undefined) {
        resource = { resourceType: acl.resourceType, resourceName: acl.resourceName, patternType: acl.patternType, acls: [] };
        resources.set(key, resource);
      }
      resource.acls.push({ principal: acl.principal, host: acl.host, operation: acl.operation, permissionType: acl.permissionType });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...resources.values()] };
  },
};

/** DeleteAcls v0-v3: per filter, the bindings it removed. */
export const deleteAclsHandler: ApiHandler<typeof ApiKey.DeleteAcls> = {
  apiKey: ApiKey.DeleteAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker }) {
    const authorizer = broker.authorizer;
    if (authorizer === undefined) {
      return {
        throttleTimeMs: 0,
        filterResults: request.filters.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: SECURITY_DISABLED_MESSAGE, matchingAcls: [] })),
      };
    }
    const filters: AclBindingFilter[] = request.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permissionType: f.permissionType,
    }));
    const reasons = filters.map(invalidFilterReason);
    const deleted = await authorizer.deleteAcls(filters.filter((_, i) => reasons[i] === undefined));
    let next = 0;
    return {
      throttleTimeMs: 0,
      filterResults: reasons.map((reason) => {
        if (reason !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: reason, matchingAcls: [] };
        const matched = deleted[next++] ?? [];
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          matchingAcls: matched.map((acl) => ({ errorCode: ErrorCode.NONE, errorMessage: null, ...acl })),
        };
      }),
    };
  },
};

export const aclApiHandlers: readonly AnyApiHandler[] = [createAclsHandler, describeAclsHandler, deleteAclsHandler];
