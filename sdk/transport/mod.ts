export type { BrokerNode, SendOptions, Transport, VersionRange } from './transport.ts';
export { CLIENT_API_VERSIONS } from './client-versions.ts';
export { NegotiatedVersions } from './version-negotiation.ts';
export { TcpTransport, type TcpTransportOptions } from './tcp-transport.ts';
export { type BackoffOptions, backoffMs, defaultBackoff } from './backoff.ts';
export type { SaslCredentials } from './sasl-client.ts';
