import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

/**
 * Response header, on the wire:
 *
 *   v0: correlation_id int32
 *   v1: v0 + tagged fields
 *
 * `responseHeaderVersion` picks the version (ApiVersions always uses v0).
 */
export interface ResponseHeader {
  correlationId: number;
}

export function encodeResponseHeader(w: Writer, headerVersion: 0 | 1, correlationId: number): void {
  w.writeInt32(correlationId);
  if (headerVersion >= 1) w.writeUvarint(0);
}

export function decodeResponseHeader(r: Reader, headerVersion: 0 | 1): ResponseHeader {
  const correlationId = r.readInt32();
  if (headerVersion >= 1) r.skipTaggedFields();
  return { correlationId };
}
