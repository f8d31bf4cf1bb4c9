import { CLIENT_AUTH_MODES, type ClientAuthMode, type TlsListenerOptions } from './tls-config.ts';

/** The listeners `rill start` can serve over TLS; each has its own `--<listener>-tls-*` settings (start-option-definitions.ts). */
export type TlsFlagPrefix = 'kafka' | 'http' | 'mqtt';

/**
 * Reads one listener's TLS settings (keyed by flag name): undefined without a certificate, else the
 * files and Kafka's `ssl.client.auth` (required when a CA is given and no mode is). A bad
 * combination throws an Error whose message names the flags.
 */
export function tlsStartOptions(prefix: TlsFlagPrefix, values: Readonly<Record<string, unknown>>): TlsListenerOptions | undefined {
  const text = (suffix: string): string | undefined => {
    const name = `${prefix}-tls-${suffix}`;
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new Error(`--${name} needs a value`);
    return v;
  };
  const certFile = text('cert');
  const keyFile = text('key');
  const caFile = text('ca');
  const clientAuth = text('client-auth');
  const flag = `--${prefix}-tls`;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error(`${flag}-cert and ${flag}-key go together`);
  if (certFile === undefined && (caFile !== undefined || clientAuth !== undefined)) throw new Error(`${flag}-ca and ${flag}-client-auth need ${flag}-cert and ${flag}-key`);
  if (clientAuth !== undefined && !(CLIENT_AUTH_MODES as readonly string[]).includes(clientAuth)) {
    throw new Error(`${flag}-client-auth must be one of ${CLIENT_AUTH_MODES.join(', ')}, got "${clientAuth}"`);
  }
  if (clientAuth !== undefined && clientAuth !== 'none' && caFile === undefined) throw new Error(`${flag}-client-auth ${clientAuth} needs ${flag}-ca to verify client certificates against`);
  if (certFile === undefined || keyFile === undefined) return undefined;
  return { certFile, keyFile, ...(caFile === undefined ? {} : { caFile }), clientAuth: (clientAuth ?? (caFile === undefined ? 'none' : 'required')) as ClientAuthMode };
}
