import { createHash, timingSafeEqual } from 'node:crypto';
import type { Broker } from '../broker.ts';
import { AclOperation, type AclOperationValue, ResourceType, type ResourceTypeValue } from '../auth/acl.ts';
import { clientHost } from '../auth/request-access.ts';
import { type TokenConfig, tokenAllows } from '../http/http-auth.ts';
import { ANONYMOUS, type KafkaPrincipal, userPrincipal } from '../security/kafka-principal.ts';
import { SaslAuthenticationError, SaslServerFactory } from '../security/sasl-server.ts';

/** Who an MQTT connection acts as, and what it may do to which log topic. */
export interface MqttPrincipal {
  readonly name: string;
  mayWrite(topic: string): boolean;
  mayRead(topic: string): boolean;
  /** Group Read: joining a share group (MQTT shared subscriptions, broker/mqtt/mqtt-share-subscription.ts). */
  mayReadGroup(group: string): boolean;
}

export type MqttAuthResult = { ok: true; principal: MqttPrincipal } | { ok: false; reason: 'bad-credentials' | 'not-authorized' };

export interface MqttAuthOptions {
  /** Whether a CONNECT without a user name and password is served (as User:ANONYMOUS). */
  allowAnonymous: boolean;
  /** The HTTP API's bearer tokens; a CONNECT whose password is one acts as that token. */
  tokens?: readonly TokenConfig[];
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/**
 * CONNECT credentials against the broker's own users: the password is checked as SASL/PLAIN
 * checks it (against the user's SCRAM credential, so `rill users` manages MQTT users too), or
 * matched against the HTTP API's tokens. A CONNECT without credentials over mqtts with a verified
 * client certificate acts as the certificate's principal (`User:<subject DN>`, as on the Kafka
 * listener); credentials, when given, win (as SASL does over Kafka's SSL). Topic access then
 * follows the broker's Kafka ACLs (Write to publish, Read to subscribe) while the broker
 * authorizes, and a token's own ACLs.
 */
export class MqttAuthenticator {
  private readonly sasl: SaslServerFactory;

  constructor(
    private readonly broker: Broker,
    private readonly options: MqttAuthOptions,
  ) {
    this.sasl = new SaslServerFactory(broker.scramCredentials);
  }

  async authenticate(username: string | undefined, password: Uint8Array | undefined, remoteAddress: string, certificatePrincipal?: KafkaPrincipal): Promise<MqttAuthResult> {
    const host = clientHost(remoteAddress);
    if (username === undefined && password === undefined) {
      if (certificatePrincipal !== undefined) return { ok: true, principal: this.kafkaPrincipal(certificatePrincipal, host) };
      return this.options.allowAnonymous ? { ok: true, principal: this.kafkaPrincipal(ANONYMOUS, host) } : { ok: false, reason: 'not-authorized' };
    }
    if (password === undefined) return { ok: false, reason: 'bad-credentials' };
    const token = this.tokenOf(password);
    if (token !== undefined) return { ok: true, principal: this.tokenPrincipal(token, host) };
    if (username === undefined || username === '') return { ok: false, reason: 'bad-credentials' };
    let text: string;
    try {
      text = strictUtf8.decode(password);
    } catch {
      return { ok: false, reason: 'bad-credentials' };
    }
    try {
      const step = await this.sasl.create('PLAIN').step(utf8.encode(`\u0000${username}\u0000${text}`));
      if (!step.done) return { ok: false, reason: 'bad-credentials' };
      return { ok: true, principal: this.kafkaPrincipal(userPrincipal(step.user), host) };
    } catch (error) {
      if (!(error instanceof SaslAuthenticationError)) throw error;
      this.broker.audit.authenticationFailed({ mechanism: 'MQTT', principal: `User:${username}`, host, reason: error.message });
      return { ok: false, reason: 'bad-credentials' };
    }
  }

  private tokenOf(password: Uint8Array): TokenConfig | undefined {
    const digest = sha256(password);
    return this.options.tokens?.find((t) => timingSafeEqual(sha256(utf8.encode(t.token)), digest));
  }

  private allowed(principal: KafkaPrincipal, host: string, topic: string, operation: AclOperationValue, resourceType: ResourceTypeValue = ResourceType.TOPIC): boolean {
    const authorizer = this.broker.authorizer;
    return authorizer === undefined || authorizer.authorize({ principal, host, resourceType, resourceName: topic, operation });
  }

  private kafkaPrincipal(principal: KafkaPrincipal, host: string): MqttPrincipal {
    return {
      name: `${principal.type}:${principal.name}`,
      mayWrite: (topic) => this.allowed(principal, host, topic, AclOperation.WRITE),
      mayRead: (topic) => this.allowed(principal, host, topic, AclOperation.READ),
      mayReadGroup: (group) => this.allowed(principal, host, group, AclOperation.READ, ResourceType.GROUP),
    };
  }

  private tokenPrincipal(token: TokenConfig, host: string): MqttPrincipal {
    const kafka = userPrincipal(token.name);
    const asToken = { name: token.name, acls: token.acls };
    return {
      name: `token:${token.name}`,
      mayWrite: (topic) => tokenAllows(asToken, 'write', topic) && this.allowed(kafka, host, topic, AclOperation.WRITE),
      mayRead: (topic) => tokenAllows(asToken, 'read', topic) && this.allowed(kafka, host, topic, AclOperation.READ),
      // Tokens name topics only: groups are the broker's ACLs' alone (as on the HTTP group routes).
      mayReadGroup: (group) => this.allowed(kafka, host, group, AclOperation.READ, ResourceType.GROUP),
    };
  }
}
