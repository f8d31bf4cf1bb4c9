import { isKnownApiKey, isSupportedVersion, requestHeaderVersion } from './api-keys.ts';
import type { Reader } from './reader.ts';
import { UnsupportedApiError } from './unsupported-api-error.ts';
import type { Writer } from './writer.ts';

/**
 * Request header, on the wire:
 *
 *   v0: request_api_key int16, request_api_version int16, correlation_id int32
 *   v1: v0 + client_id NULLABLE_STRING (int16 length, -1 = null)
 *   v2: v1 + tagged fields
 *
 * In v2 the client id keeps the classic int16 length (not a compact string) so that any broker can
 * read an ApiVersions header of a version it does not know. The tagged section follows it even when
 * the client id is null.
 */
export interface RequestHeader {
  requestApiKey: number;
  requestApiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export function encodeRequestHeader(w: Writer, headerVersion: 0 | 1 | 2, header: RequestHeader): void {
  w.writeInt16(header.requestApiKey);
  w.writeInt16(header.requestApiVersion);
  w.writeInt32(header.correlationId);
  if (headerVersion >= 1) w.writeNullableString(header.clientId);
  if (headerVersion >= 2) w.writeUvarint(0);
}

/**
 * Reads the header, deriving its version from the api key and version it starts with. An api key or
 * version this codec does not know throws UnsupportedApiError right after the correlation id, before
 * anything version-dependent is read.
 */
export function decodeRequestHeader(r: Reader): RequestHeader {
  const requestApiKey = r.readInt16();
  const requestApiVersion = r.readInt16();
  const correlationId = r.readInt32();
  if (!isKnownApiKey(requestApiKey) || !isSupportedVersion(requestApiKey, requestApiVersion)) {
    throw new UnsupportedApiError(requestApiKey, requestApiVersion, correlationId);
  }
  const headerVersion = requestHeaderVersion(requestApiKey, requestApiVersion);
  const clientId = headerVersion >= 1 ? r.readNullableString() : null;
  if (headerVersion >= 2) r.skipTaggedFields();
  return { requestApiKey, requestApiVersion, correlationId, clientId };
}
