import type { KafkaPrincipal } from '../security/kafka-principal.ts';
import { ANONYMOUS, type Authenticator, Operation, type Principal } from './http-auth.ts';

const EVERY_OPERATION = [{ topics: '*', operations: Object.values(Operation) }] as const;

/**
 * Who an HTTP request acts as. A bearer token (when tokens are configured and one is sent) wins;
 * else a verified TLS client certificate names the principal, `User:<subject DN>` exactly as the
 * Kafka listener names the same certificate, so one set of Kafka ACLs covers both front doors. A
 * certificate has no token `acls` of its own: with the broker's authorizer the Kafka ACLs decide,
 * without one it may do anything, as on the Kafka listener. Otherwise a missing or unknown token
 * is a 401 when tokens are configured, and the request is anonymous when they are not.
 */
export function requestPrincipal(authenticator: Authenticator | undefined, authorization: string | undefined, certificate: KafkaPrincipal | undefined): Principal {
  if (certificate !== undefined && (authenticator === undefined || authorization === undefined)) return { name: certificate.name, acls: EVERY_OPERATION };
  return authenticator?.authenticate(authorization) ?? ANONYMOUS;
}
