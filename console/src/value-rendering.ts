import { decode } from '@msgpack/msgpack';

/** How the record browser shows a value: parsed JSON, text, the bytes as MessagePack, or the bytes in hex. */
export const RENDERINGS = { json: 'JSON', text: 'Text', msgpack: 'MessagePack', hex: 'Hex' } as const;
export type Rendering = keyof typeof RENDERINGS;

/** A record as the records API sends it in MessagePack: key, value and header values are the stored bytes. */
export interface RawRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: { key: string; value: Uint8Array | null }[];
}

const HEX_BYTES_SHOWN = 4096;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The bytes as text when they are UTF-8, else `base64: …`. */
export function bytesAsText(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return `base64: ${base64(bytes)}`;
  }
}

/** JSON with what MessagePack has and JSON has not: bigints as strings, binary as base64, maps with non-string keys as entry lists. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `base64: ${base64(value)}`;
  if (value instanceof Map) return [...value.entries()];
  return value;
}

function hex(bytes: Uint8Array): string {
  const lines: string[] = [];
  const shown = bytes.subarray(0, HEX_BYTES_SHOWN);
  for (let at = 0; at < shown.length; at += 16) {
    const row = [...shown.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${row}`);
  }
  if (bytes.length > shown.length) lines.push(`… ${bytes.length - shown.length} more bytes`);
  return lines.join('\n');
}

/** A value's bytes as the reader asked to see them; bytes that are not what was asked for say so instead of failing. */
export function renderValue(bytes: Uint8Array | null, rendering: Rendering): string {
  if (bytes === null) return '(null)';
  switch (rendering) {
    case 'json': {
      const text = bytesAsText(bytes);
      try {
        return JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        return text;
      }
    }
    case 'text':
      return bytesAsText(bytes);
    case 'msgpack':
      try {
        return JSON.stringify(decode(bytes, { useBigInt64: true }), replacer, 2);
      } catch (error) {
        return `not MessagePack (${error instanceof Error ? error.message : String(error)})`;
      }
    case 'hex':
      return hex(bytes);
  }
}
