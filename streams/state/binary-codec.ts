import { stringSerde } from '../../sdk/serde/basic-serdes.ts';
import { isTextSerde, type Serde } from '../../sdk/serde/serde.ts';
import { type BinaryString, binaryOf, bytesOfBinary } from './binary-string.ts';

/** A serde whose bytes are binary strings, as stores hold keys and values. */
export interface BinaryCodec<T> {
  encode(value: T): BinaryString;
  decode(binary: BinaryString): T;
}

/** Where a serde keeps a binary codec of its own, giving the same binary strings as its bytes would, with fewer copies. */
export const BINARY_CODEC: unique symbol = Symbol('rill.binaryCodec');

export interface WithBinaryCodec<T> {
  readonly [BINARY_CODEC]: BinaryCodec<T>;
}

/**
 * The codec of `serde`: its own (BINARY_CODEC) when it has one. A text serde (strings, JSON) goes through its text form, which for ASCII
 * text is its own binary string (UTF-8 bytes of ASCII are the char codes): no TextEncoder or
 * TextDecoder, no intermediate Uint8Array. A store encodes on every get and put and decodes on
 * every read of committed state, so this is most of what a read or write costs it.
 */
export function binaryCodec<T>(serde: Serde<T>): BinaryCodec<T> {
  const own = (serde as Partial<WithBinaryCodec<T>>)[BINARY_CODEC];
  if (own !== undefined) return own;
  if (isTextSerde(serde)) {
    return {
      encode: (value) => binaryOfText(serde.toText(value)),
      decode: (binary) => serde.fromText(textOfBinary(binary)),
    };
  }
  return {
    encode: (value) => binaryOf(serde.serialize(value)),
    decode: (binary) => serde.deserialize(bytesOfBinary(binary)),
  };
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function binaryOfText(text: string): BinaryString {
  return isAscii(text) ? text : binaryOf(stringSerde.serialize(text));
}

/** Invalid UTF-8 fails as stringSerde fails on it (CORRUPT_MESSAGE). */
function textOfBinary(binary: BinaryString): string {
  return isAscii(binary) ? binary : stringSerde.deserialize(bytesOfBinary(binary));
}
