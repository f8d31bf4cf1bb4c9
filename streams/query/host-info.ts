import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';

/** Where an instance of the application serves interactive queries (Kafka Streams' `HostInfo`). */
export interface HostInfo {
  readonly host: string;
  readonly port: number;
  /** `host:port` (`[host]:port` for an IPv6 address), as advertised in the group. */
  readonly endpoint: string;
}

/** Reads `host:port` or `[ipv6]:port`; a malformed one is an INVALID_CONFIG error. */
export function parseHostInfo(endpoint: string): HostInfo {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s/[\]]+)):(\d{1,5})$/.exec(endpoint);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new StreamsError(StreamsErrorCode.invalidConfig, `applicationServer must be host:port with a port from 1 to 65535, got "${endpoint}"`);
  }
  const host = match[1] ?? match[2]!;
  return { host, port, endpoint: match[1] === undefined ? `${host}:${port}` : `[${host}]:${port}` };
}
