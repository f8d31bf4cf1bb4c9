/**
 * Turns values of `T` into record bytes and back. A `null` key or value stays `null` on the wire
 * (a tombstone) and never reaches the serde.
 */
export interface Serde<T> {
  serialize(value: T): Uint8Array;
  deserialize(bytes: Uint8Array): T;
}

/** The value type a serde carries, for typing producers and consumers from their options. */
export type SerdeType<S> = S extends Serde<infer T> ? T : never;
