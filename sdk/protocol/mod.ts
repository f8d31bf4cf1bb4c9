import { isKnownApiKey, isSupportedVersion, requestHeaderVersion, responseHeaderVersion } from './api-keys.ts';
import { ProtocolDecodeError } from './decode-error.ts';
import { ProtocolEncodeError } from './encode-error.ts';
import type { ApiKey } from './messages/api-table.ts';
import { REQUEST_CODECS, RESPONSE_CODECS, type RequestBodies, type ResponseBodies } from './messages/registry.ts';
import { Reader } from './reader.ts';
import { decodeRequestHeader, encodeRequestHeader, type RequestHeader } from './request-header.ts';
import { decodeResponseHeader, encodeResponseHeader } from './response-header.ts';
import { DEFAULT_MAX_FRAME_BYTES, Writer } from './writer.ts';

export * from './messages/index.ts';
export {
  apiSpec,
  isFlexibleVersion,
  isKnownApiKey,
  isSupportedVersion,
  requestHeaderVersion,
  responseHeaderVersion,
} from './api-keys.ts';
export { type DecodeErrorName, isProtocolDecodeError, ProtocolDecodeError } from './decode-error.ts';
export { ProtocolEncodeError } from './encode-error.ts';
export { UnsupportedApiError } from './unsupported-api-error.ts';
export { Reader } from './reader.ts';
export { DEFAULT_MAX_FRAME_BYTES, Writer } from './writer.ts';
export { decodeRequestHeader, encodeRequestHeader, type RequestHeader } from './request-header.ts';
export { decodeResponseHeader, encodeResponseHeader, type ResponseHeader } from './response-header.ts';
export { ZERO_UUID } from './codec-helpers.ts';

/** A decoded request, discriminated by `apiKey` so `body` narrows to that API's request type. */
export type DecodedRequest = {
  [K in ApiKey]: { apiKey: K; apiVersion: number; header: RequestHeader; body: RequestBodies[K] };
}[ApiKey];

export interface DecodedResponse<K extends ApiKey> {
  correlationId: number;
  body: ResponseBodies[K];
}

export interface EncodeOptions {
  /** Bound on the encoded frame; larger frames throw ProtocolEncodeError. */
  maxBytes?: number;
}

function checkVersion(apiKey: number, version: number): void {
  if (!isKnownApiKey(apiKey) || !isSupportedVersion(apiKey, version)) {
    throw new ProtocolEncodeError(`api key ${apiKey} version ${version} is not supported`);
  }
}

/** Encodes header + body. The returned frame excludes the 4-byte size prefix. */
export function encodeRequest<K extends ApiKey>(
  apiKey: K,
  version: number,
  header: { correlationId: number; clientId: string | null },
  body: RequestBodies[K],
  options?: EncodeOptions,
): Uint8Array {
  return requestWriter(apiKey, version, header, body, options).finish();
}

/** `encodeRequest` as the frame's parts (Writer.finishParts): record sets stay where they are. */
export function encodeRequestParts<K extends ApiKey>(
  apiKey: K,
  version: number,
  header: { correlationId: number; clientId: string | null },
  body: RequestBodies[K],
  options?: EncodeOptions,
): Uint8Array[] {
  return requestWriter(apiKey, version, header, body, options).finishParts();
}

function requestWriter<K extends ApiKey>(
  apiKey: K,
  version: number,
  header: { correlationId: number; clientId: string | null },
  body: RequestBodies[K],
  options?: EncodeOptions,
): Writer {
  checkVersion(apiKey, version);
  const w = new Writer(256, options?.maxBytes ?? DEFAULT_MAX_FRAME_BYTES);
  encodeRequestHeader(w, requestHeaderVersion(apiKey, version), {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId: header.correlationId,
    clientId: header.clientId,
  });
  REQUEST_CODECS[apiKey].encode(w, version, body);
  return w;
}

/**
 * Decodes a request frame (without its size prefix). Throws UnsupportedApiError for an api key or
 * version it does not know (carrying the correlation id), and ProtocolDecodeError for a malformed
 * frame, including bytes left over after the body.
 */
export function decodeRequest(frame: Uint8Array): DecodedRequest {
  const r = new Reader(frame);
  const header = decodeRequestHeader(r);
  const apiKey = header.requestApiKey as ApiKey;
  const apiVersion = header.requestApiVersion;
  try {
    const body = REQUEST_CODECS[apiKey].decode(r, apiVersion);
    r.expectEnd();
    return { apiKey, apiVersion, header, body } as DecodedRequest;
  } catch (error) {
    if (error instanceof ProtocolDecodeError) {
      throw error.withHeader({ apiKey, apiVersion, correlationId: header.correlationId });
    }
    throw error;
  }
}

/** Encodes response header + body; ApiVersions always gets header v0. Excludes the size prefix. */
export function encodeResponse<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  body: ResponseBodies[K],
  options?: EncodeOptions,
): Uint8Array {
  return responseWriter(apiKey, version, correlationId, body, options).finish();
}

/** `encodeResponse` as the frame's parts (Writer.finishParts): record sets stay where they are. */
export function encodeResponseParts<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  body: ResponseBodies[K],
  options?: EncodeOptions,
): Uint8Array[] {
  return responseWriter(apiKey, version, correlationId, body, options).finishParts();
}

function responseWriter<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  body: ResponseBodies[K],
  options?: EncodeOptions,
): Writer {
  checkVersion(apiKey, version);
  const w = new Writer(256, options?.maxBytes ?? DEFAULT_MAX_FRAME_BYTES);
  encodeResponseHeader(w, responseHeaderVersion(apiKey, version), correlationId);
  RESPONSE_CODECS[apiKey].encode(w, version, body);
  return w;
}

/** Decodes a response frame (without its size prefix) to a request of `apiKey` at `version`. */
export function decodeResponse<K extends ApiKey>(apiKey: K, version: number, frame: Uint8Array): DecodedResponse<K> {
  if (!isKnownApiKey(apiKey) || !isSupportedVersion(apiKey, version)) {
    throw new ProtocolDecodeError('INVALID_REQUEST', `api key ${apiKey} version ${version} is not supported`, 0);
  }
  const r = new Reader(frame);
  const { correlationId } = decodeResponseHeader(r, responseHeaderVersion(apiKey, version));
  const body = RESPONSE_CODECS[apiKey].decode(r, version);
  r.expectEnd();
  return { correlationId, body };
}
