import { readFileSync } from 'node:fs';
import type { TLSSocket, TlsOptions } from 'node:tls';
import { type KafkaPrincipal, subjectToRfc2253, userPrincipal } from './kafka-principal.ts';

/** Kafka's `ssl.client.auth`: whether the listener asks for a client certificate and whether it must verify. */
export const CLIENT_AUTH_MODES = ['none', 'requested', 'required'] as const;
export type ClientAuthMode = (typeof CLIENT_AUTH_MODES)[number];

/** TLS on a listener, Kafka's, HTTP's or MQTT's: the same files, checks and reload on each. */
export interface TlsListenerOptions {
  /** PEM certificate chain of the listener. */
  certFile: string;
  /** PEM private key of the listener. */
  keyFile: string;
  /** PEM CA bundle that client certificates must chain to (mTLS); required unless clientAuth is none. */
  caFile?: string;
  clientAuth: ClientAuthMode;
}

export type KafkaTlsOptions = TlsListenerOptions;

/**
 * Reads the certificate, key and CA files into server options. TLS 1.2 is the floor (Kafka's
 * default `ssl.enabled.protocols` is TLSv1.2,TLSv1.3); Node's default cipher list already
 * excludes the broken suites. Called again on reload, so renewed files take effect.
 */
export function tlsServerOptions(options: TlsListenerOptions): TlsOptions {
  if (options.clientAuth !== 'none' && options.caFile === undefined) {
    throw new Error(`TLS client auth "${options.clientAuth}" needs a CA file to verify client certificates against`);
  }
  return {
    cert: readFileSync(options.certFile),
    key: readFileSync(options.keyFile),
    ...(options.caFile === undefined ? {} : { ca: readFileSync(options.caFile) }),
    minVersion: 'TLSv1.2',
    requestCert: options.clientAuth !== 'none',
    rejectUnauthorized: options.clientAuth === 'required',
  };
}

/**
 * The principal a verified client certificate names, as Kafka's default principal builder makes
 * it: `User:` and the subject in RFC 2253 form. Undefined without a verified certificate.
 */
export function certificatePrincipal(socket: TLSSocket): KafkaPrincipal | undefined {
  if (!socket.authorized) return undefined;
  const x509 = socket.getPeerX509Certificate?.();
  if (x509 !== undefined) return userPrincipal(subjectToRfc2253(x509.subject));
  const peer = socket.getPeerCertificate();
  if (peer === null || peer.subject === undefined) return undefined;
  // Without X509Certificate the subject comes as an object, in certificate order.
  const lines = Object.entries(peer.subject).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${key}=${String(v)}`));
  return userPrincipal(subjectToRfc2253(lines.join('\n')));
}
