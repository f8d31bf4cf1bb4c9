/**
 * Who a connection acts as, in Kafka's terms (`KafkaPrincipal`: type and name, written `User:alice`).
 * SASL gives `User:<username>`; a TLS client certificate without SASL gives `User:<subject DN>` as
 * Kafka's default principal builder does (`User:CN=alice,OU=eng,O=acme`); otherwise `User:ANONYMOUS`.
 * Authorization (ACLs) matches on this value.
 */
export interface KafkaPrincipal {
  readonly type: 'User';
  readonly name: string;
}

export const ANONYMOUS: KafkaPrincipal = Object.freeze({ type: 'User', name: 'ANONYMOUS' });

export function userPrincipal(name: string): KafkaPrincipal {
  return Object.freeze({ type: 'User', name });
}

export function principalToString(principal: KafkaPrincipal): string {
  return `${principal.type}:${principal.name}`;
}

/** RFC 2253 escaping of an attribute value (what Java's X500Principal.getName() produces). */
function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[ #]| $/g, (c) => `\\${c}`);
}

/**
 * The RFC 2253 string of a certificate subject given as Node's `X509Certificate.subject` (one
 * `KEY=value` per line, in certificate order). RFC 2253 writes the last RDN first.
 */
export function subjectToRfc2253(subject: string): string {
  return subject
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const eq = line.indexOf('=');
      return `${line.slice(0, eq)}=${escapeDnValue(line.slice(eq + 1))}`;
    })
    .reverse()
    .join(',');
}
