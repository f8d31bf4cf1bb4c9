import { parseArgs } from 'node:util';
import type { TlsListenerOptions } from '../security/tls-config.ts';
import { tlsFlags, tlsStartOptions } from '../security/tls-start-options.ts';

/** `rill start --http-tls-cert FILE --http-tls-key FILE [--http-tls-ca FILE] [--http-tls-client-auth MODE]`. */
export const HTTP_TLS_FLAGS = tlsFlags('http');

/** The HTTP listener's TLS, undefined for plain HTTP; throws with a readable message on a bad combination. */
export function httpTlsStartOptions(args: readonly string[]): TlsListenerOptions | undefined {
  const { values } = parseArgs({ args: [...args], options: HTTP_TLS_FLAGS, strict: false, allowPositionals: true });
  return tlsStartOptions('http', values);
}
