import type { TlsListenerOptions } from '../security/tls-config.ts';
import { tlsStartOptions } from '../security/tls-start-options.ts';

/**
 * The HTTP listener's TLS from `rill start`'s settings (`--http-tls-cert`, `-key`, `-ca`,
 * `-client-auth`), undefined for plain HTTP; throws with a readable message on a bad combination.
 */
export function httpTlsStartOptions(values: Readonly<Record<string, string | boolean | undefined>>): TlsListenerOptions | undefined {
  return tlsStartOptions('http', values);
}
