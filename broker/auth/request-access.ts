import type { Principal } from './acl.ts';
import { AclOperation, type AclOperationValue, CLUSTER_RESOURCE_NAME, ResourceType, type ResourceTypeValue } from './acl.ts';
import type { AclAuthorizer } from './acl-authorizer.ts';

/**
 * One request's view of the authorizer: who asks, from where, for which API. `allowed` writes a
 * denial to the audit log; `visible` does not, for the checks that only filter what a listing shows
 * (Metadata of all topics, ListGroups), where Kafka does not log denials either.
 */
export class RequestAccess {
  constructor(
    private readonly authorizer: AclAuthorizer,
    readonly principal: Principal,
    readonly host: string,
    private readonly apiKey: number,
  ) {}

  allowed(resourceType: ResourceTypeValue, resourceName: string, operation: AclOperationValue): boolean {
    if (this.visible(resourceType, resourceName, operation)) return true;
    this.authorizer.audit.denied({
      principal: `${this.principal.type}:${this.principal.name}`,
      host: this.host,
      apiKey: this.apiKey,
      resourceType,
      resourceName,
      operation,
    });
    return false;
  }

  visible(resourceType: ResourceTypeValue, resourceName: string, operation: AclOperationValue): boolean {
    return this.authorizer.authorize({ principal: this.principal, host: this.host, resourceType, resourceName, operation });
  }

  cluster(operation: AclOperationValue): boolean {
    return this.allowed(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, operation);
  }

  /** Whether the principal may write to some topic (what Kafka 3 accepts in place of Cluster IdempotentWrite). */
  mayWriteSomeTopic(): boolean {
    return this.authorizer.authorizeAny({ principal: this.principal, host: this.host, resourceType: ResourceType.TOPIC, operation: AclOperation.WRITE });
  }

  /** Kafka's rule for creating a topic: Create on the cluster, or on the topic itself. */
  mayCreateTopic(name: string): boolean {
    return this.visible(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.CREATE) || this.allowed(ResourceType.TOPIC, name, AclOperation.CREATE);
  }
}

/** The client address without its port, IPv4-mapped IPv6 addresses as plain IPv4 (what ACL hosts name). */
export function clientHost(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  const address = colon < 0 ? remoteAddress : remoteAddress.slice(0, colon);
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
