import type { Serde } from '../../sdk/serde/serde.ts';

const NULLABLE = Symbol.for('rill.streams.nullable-serde');

/**
 * A serde whose type admits null: a record whose key or value is null on the wire (no key, a
 * tombstone) reaches the topology as null. With a plain serde such a record is a deserialization
 * error, so a `KStream<string, Order>` never sees a null it did not declare.
 */
export function nullable<T>(serde: Serde<T>): Serde<T | null> {
  return {
    [NULLABLE]: true,
    serialize: (value: T | null) => {
      if (value === null) throw new Error('invariant: a null key or value is written as null, never through its serde');
      return serde.serialize(value);
    },
    deserialize: (bytes: Uint8Array) => serde.deserialize(bytes),
  } as Serde<T | null>;
}

export function acceptsNull(serde: Serde<unknown>): boolean {
  return (serde as { [NULLABLE]?: boolean })[NULLABLE] === true;
}
