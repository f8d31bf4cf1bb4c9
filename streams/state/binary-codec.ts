import { stringSerde } from '../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import { type BinaryString, binaryOf, bytesOfBinary } from './binary-string.ts';

/** A serde whose bytes are binary strings, as stores hold keys and values. */
export interface BinaryCodec<T> {
  encode(value: T): BinaryString;
  decode(binary: BinaryString): T;
}

/**
 * The codec of `serde`. Strings (the usual keys) skip the TextEncoder round trip when they are
 * ASCII, where the UTF-8 bytes are the string's own char codes: the check costs a fraction of an
 * encode, and a store does it on every get and put.
 */
export function binaryCodec<T>(serde: Serde<T>): BinaryCodec<T> {
  if (serde === (stringSerde as Serde<unknown>)) return stringCodec as unknown as BinaryCodec<T>;
  return {
    encode: (value) => binaryOf(serde.serialize(value)),
    decode: (binary) => serde.deserialize(bytesOfBinary(binary)),
  };
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

const stringCodec: BinaryCodec<string> = {
  encode: (value) => (isAscii(value) ? value : binaryOf(stringSerde.serialize(value))),
  decode: (binary) => (isAscii(binary) ? binary : stringSerde.deserialize(bytesOfBinary(binary))),
};
