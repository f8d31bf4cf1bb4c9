import { KafkaError } from '../protocol/kafka-error.ts';
import { readInt64BE, writeInt64BE } from './int64.ts';
import type { Serde, TextSerde } from './serde.ts';

const encoder = new TextEncoder();
// ignoreBOM: a string starting with U+FEFF round-trips whole (TextDecoder drops a leading BOM by default).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as they are, without copying. */
export const bytesSerde: Serde<Uint8Array> = {
  serialize: (value) => value,
  deserialize: (bytes) => bytes,
};

/**
 * Values already in their wire form: bytes as they are, or text that stands for its UTF-8 bytes.
 * A producer with this value serde puts text into batches as text (encoded once, in place), as it
 * does for text serdes; a pipeline that holds serialized values of both kinds sends them with it.
 */
export const wireSerde: Serde<Uint8Array | string> = {
  serialize: (value) => (typeof value === 'string' ? encoder.encode(value) : value),
  deserialize: (bytes) => bytes,
};

/**
 * Text of up to this many chars that is all ASCII is encoded by a loop: a TextEncoder call costs
 * several hundred nanoseconds whatever the length, ten times the loop's for a short key. Decoding
 * has no such path: a loop of concatenations made an intermediate string per char, and the garbage
 * cost a stateless job more than the TextDecoder calls it saved.
 */
const SHORT_TEXT_CHARS = 16;

/** UTF-8 text; invalid UTF-8 fails with CORRUPT_MESSAGE rather than decoding to replacement characters. */
export const stringSerde: TextSerde<string> = {
  toText: (value) => value,
  fromText: (text) => text,
  serialize: (value) => {
    if (value.length <= SHORT_TEXT_CHARS) {
      const bytes = new Uint8Array(value.length);
      for (let i = 0; i < value.length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) return encoder.encode(value);
        bytes[i] = code;
      }
      return bytes;
    }
    return encoder.encode(value);
  },
  deserialize: (bytes) => decodeUtf8(bytes),
};

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new KafkaError('CORRUPT_MESSAGE', 'record bytes are not valid UTF-8', { cause: error });
  }
}

/** JSON text in UTF-8. `T` is what the caller asserts the data holds; use jsonSchemaSerde to check it. */
export function jsonSerde<T>(): TextSerde<T> {
  const fromText = (text: string): T => {
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new KafkaError('CORRUPT_MESSAGE', `record is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    toText: (value) => JSON.stringify(value),
    fromText,
    serialize: (value) => encoder.encode(JSON.stringify(value)),
    deserialize: (bytes) => {
      try {
        const text = stringSerde.deserialize(bytes);
        // A leading byte-order mark is not JSON; RFC 8259 lets a parser ignore it, as we do.
        return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as T;
      } catch (error) {
        throw new KafkaError('CORRUPT_MESSAGE', `record is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

/**
 * A 64-bit signed integer, 8 bytes big-endian (Kafka's `Serdes.Long()`, which Kafka Streams'
 * `count()` writes). Numbers outside Number.MAX_SAFE_INTEGER are refused rather than rounded.
 */
export const longSerde: Serde<number> = {
  serialize: (value) => {
    if (!Number.isSafeInteger(value)) throw new KafkaError('INVALID_RECORD', `${value} is not a safe integer for a 64-bit long`);
    const bytes = new Uint8Array(8);
    writeInt64BE(bytes, 0, value);
    return bytes;
  },
  deserialize: (bytes) => {
    if (bytes.length !== 8) throw new KafkaError('CORRUPT_MESSAGE', `a long is 8 bytes, not ${bytes.length}`);
    const value = readInt64BE(bytes, 0);
    if (!Number.isSafeInteger(value)) throw new KafkaError('CORRUPT_MESSAGE', 'the long does not fit a safe integer');
    return value;
  },
};
