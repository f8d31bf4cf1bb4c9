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

/**
 * A serde whose bytes are the UTF-8 encoding of a text form (strings, JSON). Code that keeps
 * serialized values as text, as the state stores do, uses the text form and skips the
 * TextEncoder/TextDecoder round trip; `serialize`/`deserialize` stay the wire contract.
 */
export interface TextSerde<T> extends Serde<T> {
  toText(value: T): string;
  /** Fails as `deserialize` does on bytes that do not hold a value. */
  fromText(text: string): T;
}

export function isTextSerde<T>(serde: Serde<T>): serde is TextSerde<T> {
  return typeof (serde as Partial<TextSerde<T>>).toText === 'function' && typeof (serde as Partial<TextSerde<T>>).fromText === 'function';
}
