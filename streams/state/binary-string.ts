/**
 * Bytes as a "binary string": one char (0-255) per byte. Stores keep serialized keys and values in
 * this form: `<` on two binary strings compares their bytes lexicographically (the order RocksDB
 * and Kafka Streams give serialized keys), a string is immutable (so committed state can be shared
 * with snapshots and iterators without copying), and a short one-byte string costs a third of the
 * memory of a Uint8Array holding the same bytes.
 */
export type BinaryString = string;

/** Arguments per String.fromCharCode call, well under every engine's limit. */
const CHUNK = 8192;

export function binaryOf(bytes: Uint8Array): BinaryString {
  if (bytes.length <= CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let text = '';
  for (let i = 0; i < bytes.length; i += CHUNK) text += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  return text;
}

export function bytesOfBinary(text: BinaryString): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Copies `text`'s bytes into `into` at `at`; returns the position after them. */
export function writeBinary(text: BinaryString, into: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) into[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** Byte-lexicographic order of two binary strings. */
export function compareBinary(a: BinaryString, b: BinaryString): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The smallest binary string greater than every string that starts with `prefix`, or undefined when
 * there is none (the prefix is empty or all 0xff): the exclusive upper bound of a prefix scan.
 */
export function prefixEnd(prefix: BinaryString): BinaryString | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}
