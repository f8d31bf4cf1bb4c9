import { decode, encode } from '@msgpack/msgpack';
import { KafkaError } from '../protocol/kafka-error.ts';
import type { Serde } from './serde.ts';

/** MessagePack via @msgpack/msgpack; `T` is what the caller asserts the data holds. */
export function msgpackSerde<T>(): Serde<T> {
  return {
    serialize: (value) => encode(value),
    deserialize: (bytes) => {
      try {
        return decode(bytes) as T;
      } catch (error) {
        throw new KafkaError('CORRUPT_MESSAGE', `record is not valid MessagePack: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}
