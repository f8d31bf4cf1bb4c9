import type { FileSystem } from '../log/file-system.ts';
import { SerialQueue } from '../serial-queue.ts';
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  type AclOperationValue,
  AclPermission,
  filterMatches,
  formatPrincipal,
  invalidBindingReason,
  PatternType,
  type Principal,
  type ResourceTypeValue,
  sameBinding,
  WILDCARD_HOST,
  WILDCARD_RESOURCE,
} from './acl.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { loadAcls, saveAcls } from './acl-store.ts';
import { AuditLog, defaultAuditLogLimits } from './audit-log.ts';

export interface AuthorizerOptions {
  /** Principals (`User:admin`) allowed everything, ACLs or not (Kafka's `super.users`). */
  superUsers: readonly string[];
  /** Kafka's `allow.everyone.if.no.acl.found`: a resource no ACL names is open to all. */
  allowEveryoneIfNoAclFound: boolean;
  auditLogMaxBytes: number;
  auditLogMaxLinesPerSecond: number;
}

export const defaultAuthorizerOptions: Readonly<AuthorizerOptions> = Object.freeze({
  superUsers: [],
  allowEveryoneIfNoAclFound: false,
  auditLogMaxBytes: defaultAuditLogLimits.maxBytes,
  auditLogMaxLinesPerSecond: defaultAuditLogLimits.maxLinesPerSecond,
});

export interface AuthorizationRequest {
  principal: Principal;
  /** The client's address without port. */
  host: string;
  resourceType: ResourceTypeValue;
  resourceName: string;
  operation: AclOperationValue;
}

/**
 * Operations an ALLOW of the key grants besides itself (Kafka's implied operations). DENY does
 * not imply: denying Read leaves Describe as other ACLs decide.
 */
const IMPLIED_BY: ReadonlyMap<number, readonly number[]> = new Map([
  [AclOperation.DESCRIBE, [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]],
  [AclOperation.DESCRIBE_CONFIGS, [AclOperation.ALTER_CONFIGS]],
]);

/** Kafka's StandardAuthorizer decisions over ACLs kept in memory and in `acls.json`. */
export class AclAuthorizer {
  private acls: AclBinding[];
  private readonly writes = new SerialQueue();
  private readonly superUsers: ReadonlySet<string>;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dataDir: string,
    readonly options: AuthorizerOptions,
    acls: AclBinding[],
    readonly audit: AuditLog,
  ) {
    this.acls = acls;
    this.superUsers = new Set(options.superUsers);
  }

  /** `audit`: the broker's audit log, which authentication failures share; one of the options' size and rate is opened otherwise. */
  static async open(fs: FileSystem, dataDir: string, options: Partial<AuthorizerOptions> = {}, audit?: AuditLog): Promise<AclAuthorizer> {
    const resolved: AuthorizerOptions = { ...defaultAuthorizerOptions, ...options };
    audit ??= new AuditLog({ dir: dataDir, maxBytes: resolved.auditLogMaxBytes, maxLinesPerSecond: resolved.auditLogMaxLinesPerSecond });
    return new AclAuthorizer(fs, dataDir, resolved, await loadAcls(fs, dataDir), audit);
  }

  authorize(request: AuthorizationRequest): boolean {
    const principal = formatPrincipal(request.principal);
    if (this.superUsers.has(principal)) return true;
    const wildcardPrincipal = `${request.principal.type}:*`;
    let anyAclOnResource = false;
    let allowed = false;
    for (const acl of this.acls) {
      if (!appliesToResource(acl, request.resourceType, request.resourceName)) continue;
      anyAclOnResource = true;
      if (acl.principal !== principal && acl.principal !== wildcardPrincipal) continue;
      if (acl.host !== WILDCARD_HOST && acl.host !== request.host) continue;
      if (acl.permissionType === AclPermission.DENY) {
        if (acl.operation === AclOperation.ALL || acl.operation === request.operation) return false;
        continue;
      }
      if (
        acl.operation === AclOperation.ALL ||
        acl.operation === request.operation ||
        (IMPLIED_BY.get(request.operation)?.includes(acl.operation) ?? false)
      ) {
        allowed = true;
      }
    }
    return allowed || (!anyAclOnResource && this.options.allowEveryoneIfNoAclFound);
  }

  /**
   * Kafka's authorizeByResourceType: whether some ACL lets the principal perform `operation` on at
   * least one resource of the type (an idempotent producer needs Write on any topic, KIP-679),
   * unless a DENY on every resource of the type (`*`) forbids it.
   */
  authorizeAny(request: Omit<AuthorizationRequest, 'resourceName'>): boolean {
    const principal = formatPrincipal(request.principal);
    if (this.superUsers.has(principal)) return true;
    const wildcardPrincipal = `${request.principal.type}:*`;
    let allowed = false;
    for (const acl of this.acls) {
      if (acl.resourceType !== request.resourceType) continue;
      if (acl.principal !== principal && acl.principal !== wildcardPrincipal) continue;
      if (acl.host !== WILDCARD_HOST && acl.host !== request.host) continue;
      if (acl.operation !== AclOperation.ALL && acl.operation !== request.operation) continue;
      if (acl.permissionType === AclPermission.DENY) {
        if (acl.patternType === PatternType.LITERAL && acl.resourceName === WILDCARD_RESOURCE) return false;
        continue;
      }
      allowed = true;
    }
    return allowed;
  }

  /**
   * Adds bindings (an existing identical binding is not duplicated) and persists before resolving.
   * A malformed binding (e.g. no permission type from an untyped caller) rejects the whole call with
   * INVALID_REQUEST before anything is stored, as the CreateAcls wire path would.
   */
  createAcls(bindings: readonly AclBinding[]): Promise<void> {
    for (const binding of bindings) {
      const reason = invalidBindingReason(binding);
      if (reason !== undefined) return Promise.reject(new KafkaError('INVALID_REQUEST', reason));
    }
    return this.writes.run(async () => {
      const next = [...this.acls];
      for (const binding of bindings) if (!next.some((acl) => sameBinding(acl, binding))) next.push(binding);
      await saveAcls(this.fs, this.dataDir, next);
      this.acls = next;
    });
  }

  describeAcls(filter: AclBindingFilter): AclBinding[] {
    return this.acls.filter((acl) => filterMatches(filter, acl));
  }

  /** Removes every binding any filter matches; answers, per filter, the bindings it matched. */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    return this.writes.run(async () => {
      const matched = filters.map((filter) => this.acls.filter((acl) => filterMatches(filter, acl)));
      const next = this.acls.filter((acl) => !filters.some((filter) => filterMatches(filter, acl)));
      if (next.length !== this.acls.length) await saveAcls(this.fs, this.dataDir, next);
      this.acls = next;
      return matched;
    });
  }
}

function appliesToResource(acl: AclBinding, resourceType: number, resourceName: string): boolean {
  if (acl.resourceType !== resourceType) return false;
  if (acl.patternType === PatternType.PREFIXED) return resourceName.startsWith(acl.resourceName);
  return acl.resourceName === resourceName || acl.resourceName === WILDCARD_RESOURCE;
}
