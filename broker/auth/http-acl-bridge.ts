import type { OperationValue, Principal as HttpPrincipal } from '../http/http-auth.ts';
import { AclOperation, type AclOperationValue, type Principal, ResourceType } from './acl.ts';
import type { AclAuthorizer } from './acl-authorizer.ts';
import { clientHost, RequestAccess } from './request-access.ts';

/**
 * The HTTP API's operations as Kafka topic operations: `read` is Read (reading, tailing, seeing and
 * committing group offsets), `write` is Write (producing), `admin` is Alter (creating, deleting and
 * reconfiguring topics, registering schemas, resetting group offsets).
 */
const KAFKA_OPERATION: Readonly<Record<OperationValue, AclOperationValue>> = {
  read: AclOperation.READ,
  write: AclOperation.WRITE,
  admin: AclOperation.ALTER,
};

/** A token named `ingest` is `User:ingest`; requests without tokens (none configured) are `User:ANONYMOUS`. */
export function kafkaPrincipalOf(principal: HttpPrincipal, anonymous: HttpPrincipal): Principal {
  return { type: 'User', name: principal === anonymous ? 'ANONYMOUS' : principal.name };
}

/**
 * One model, two front doors: with the broker's authorizer on, an HTTP request must pass both the
 * token's own `acls` (what the token may ever do, as before) and the broker's ACLs for the token's
 * principal, checked exactly as a Kafka request from that principal and address would be.
 */
export function withKafkaAcls(principal: HttpPrincipal, anonymous: HttpPrincipal, authorizer: AclAuthorizer, remoteAddress: string | undefined): HttpPrincipal {
  const kafkaPrincipal = kafkaPrincipalOf(principal, anonymous);
  const host = remoteAddress === undefined ? '' : clientHost(`${remoteAddress}:0`);
  return {
    ...principal,
    kafkaAccess: new RequestAccess(authorizer, kafkaPrincipal, host, -1),
    kafkaAcls: (operation, topic, audit) => {
      const request = { principal: kafkaPrincipal, host, resourceType: ResourceType.TOPIC, resourceName: topic, operation: KAFKA_OPERATION[operation] };
      if (authorizer.authorize(request)) return true;
      if (audit) authorizer.audit.denied({ principal: `User:${kafkaPrincipal.name}`, host, apiKey: -1, resourceType: ResourceType.TOPIC, resourceName: topic, operation: request.operation });
      return false;
    },
  };
}
