import { decode, Encoder } from '@msgpack/msgpack';
import { HttpProblem } from './problem.ts';

/** The two body formats the API speaks, chosen by Content-Type (requests) and Accept (responses). */
export const BodyFormat = { json: 'json', msgpack: 'msgpack' } as const;
export type BodyFormatValue = (typeof BodyFormat)[keyof typeof BodyFormat];

// One encoder for all responses: `encode()` builds an Encoder (and its buffer) per call.
const msgpack = new Encoder({ ignoreUndefined: true });

const MSGPACK_TYPES = new Set(['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack']);

function mediaType(header: string): string {
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

/** The request body's format; anything but JSON or msgpack is a 415. */
export function requestFormat(contentType: string | undefined): BodyFormatValue {
  if (contentType === 'application/json') return BodyFormat.json;
  const type = mediaType(contentType ?? '');
  if (type === 'application/json' || type.endsWith('+json')) return BodyFormat.json;
  if (MSGPACK_TYPES.has(type)) return BodyFormat.msgpack;
  throw new HttpProblem(
    'unsupportedMediaType',
    `Content-Type must be application/json or application/msgpack, got ${contentType === undefined ? 'none' : `"${contentType}"`}`,
  );
}

/** The response format: msgpack when Accept names a msgpack type, JSON otherwise. */
export function responseFormat(accept: string | undefined): BodyFormatValue {
  if (accept === undefined) return BodyFormat.json;
  for (const part of accept.split(',')) if (MSGPACK_TYPES.has(mediaType(part))) return BodyFormat.msgpack;
  return BodyFormat.json;
}

/**
 * Reads a request body, refusing (413) as soon as it passes `maxBytes`: by Content-Length when the
 * client sent one, else while streaming, so an oversized body is never buffered whole.
 *
 * A body with a Content-Length within the limit is read with `arrayBuffer()`: the HTTP parser stops
 * at the declared length, and on Node it lets @hono/node-server read the socket directly instead of
 * building a web Request and ReadableStream per request (a sixth of the produce path's CPU).
 */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (): HttpProblem =>
    new HttpProblem('payloadTooLarge', `the request body is larger than the limit of ${maxBytes} bytes`);
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (declared !== null) return new Uint8Array(await request.arrayBuffer());
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a body in `format`; malformed bytes are a 400. */
export function decodeBody(bytes: Uint8Array, format: BodyFormatValue): unknown {
  try {
    if (format === BodyFormat.json) return JSON.parse(utf8.decode(bytes));
    return decode(bytes);
  } catch (error) {
    throw new HttpProblem('badRequest', `the body is not valid ${format === BodyFormat.json ? 'JSON' : 'msgpack'}: ${(error as Error).message}`);
  }
}

/** Reads, size-checks and decodes a request body in the format its Content-Type names. */
export async function readBody(request: Request, maxBytes: number): Promise<{ body: unknown; format: BodyFormatValue }> {
  const format = requestFormat(request.headers.get('content-type') ?? undefined);
  const bytes = await readBodyBytes(request, maxBytes);
  return { body: decodeBody(bytes, format), format };
}

/** Encodes a response body in `format`. */
export function encodeResponse(value: unknown, format: BodyFormatValue, status = 200, headers: Record<string, string> = {}): Response {
  if (format === BodyFormat.msgpack) {
    return new Response(msgpack.encode(value), {
      status,
      headers: { 'content-type': 'application/msgpack', ...headers },
    });
  }
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } });
}
