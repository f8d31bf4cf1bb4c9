import { createHash } from 'node:crypto';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readInt64BE, writeInt64BE } from '../../sdk/serde/int64.ts';
import type { Serde } from '../../sdk/serde/serde.ts';

/**
 * What a foreign-key join's subscription asks of the right side (Kafka Streams' SubscriptionWrapper
 * instructions, same numbering). Rill sends only the first and third; the right side still serves
 * the other two, which registration topics written by earlier Rill versions hold.
 */
export const Instruction = {
  /** Unsubscribe, answer nothing: the left row moved to another foreign key or was deleted. */
  deleteKeyNoPropagate: 0,
  /** Unsubscribe and answer "no value": the left row is gone, or no longer joins (its result must be deleted). */
  deleteKeyAndPropagate: 1,
  /** Subscribe and answer with the right value, null when absent. */
  propagateNullIfNoFkValAvailable: 2,
  /** Subscribe and answer only when the right value exists (an inner join's new row). */
  propagateOnlyIfFkValAvailable: 3,
} as const;
export type InstructionValue = (typeof Instruction)[keyof typeof Instruction];

/** A left row's subscription to a foreign key: the hash of the left value it was sent for, and where to answer. */
export interface Subscription<K> {
  readonly instruction: InstructionValue;
  /** 16 bytes; null when the left row was deleted. */
  readonly hash: Uint8Array | null;
  readonly primaryKey: K;
  /** The partition of the left row's task: the response goes back there. */
  readonly primaryPartition: number;
}

/** The right side's answer: the right value now (null: absent) for the left value with `hash`. */
export interface SubscriptionResponse<VO> {
  readonly hash: Uint8Array | null;
  readonly foreignValue: VO | null;
  /** Where the response topic's sink sends it; not on the wire (-1 when read back). */
  readonly primaryPartition: number;
}

/** A subscription store entry: the subscribed left value's hash, where to answer, and when it subscribed. */
export interface StoredSubscription {
  readonly hash: Uint8Array;
  readonly primaryPartition: number;
  readonly timestamp: number;
}

/** A subscription store key: the foreign key, then the left row's key; no primary key: the prefix of every subscriber of a foreign key. */
export interface CombinedKey<KO, K> {
  readonly foreignKey: KO;
  readonly primaryKey: K | undefined;
}

const VERSION = 0;
const HASH_BYTES = 16;

/** The first 16 bytes of SHA-256 of a left value's bytes: a stale response carries another value's hash. */
export function valueHash(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest().subarray(0, HASH_BYTES));
}

export function sameHash(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function writeInt32BE(bytes: Uint8Array, pos: number, value: number): void {
  bytes[pos] = value >>> 24;
  bytes[pos + 1] = value >>> 16;
  bytes[pos + 2] = value >>> 8;
  bytes[pos + 3] = value;
}

function readInt32BE(bytes: Uint8Array, pos: number): number {
  return (bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
}

function need(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length < length) throw new KafkaError('CORRUPT_MESSAGE', `${what}: needs at least ${length} bytes, got ${bytes.length}`);
}

function readHash(bytes: Uint8Array, pos: number, what: string): { hash: Uint8Array | null; end: number } {
  const length = bytes[pos]!;
  if (length !== 0 && length !== HASH_BYTES) throw new KafkaError('CORRUPT_MESSAGE', `${what}: a hash has ${HASH_BYTES} bytes or none, got ${length}`);
  need(bytes, pos + 1 + length, what);
  return { hash: length === 0 ? null : bytes.slice(pos + 1, pos + 1 + length), end: pos + 1 + length };
}

/**
 * The registration topic's values, keyed by the foreign key:
 *
 *   0  version            int8 (0)
 *   1  instruction        int8 (`Instruction`)
 *   2  hash length        int8 (0: no hash, or 16)
 *   3  hash               16 bytes when present
 *   .  primary partition  int32, big-endian
 *   .  primary key        the left table's key serde's bytes, to the end
 */
export function subscriptionSerde<K>(primaryKey: Serde<K>): Serde<Subscription<K>> {
  const what = 'a foreign-key join subscription';
  return {
    serialize: ({ instruction, hash, primaryKey: key, primaryPartition }) => {
      const keyBytes = primaryKey.serialize(key);
      const hashLength = hash === null ? 0 : HASH_BYTES;
      const bytes = new Uint8Array(3 + hashLength + 4 + keyBytes.length);
      bytes[0] = VERSION;
      bytes[1] = instruction;
      bytes[2] = hashLength;
      if (hash !== null) bytes.set(hash, 3);
      writeInt32BE(bytes, 3 + hashLength, primaryPartition);
      bytes.set(keyBytes, 3 + hashLength + 4);
      return bytes;
    },
    deserialize: (bytes) => {
      need(bytes, 3, what);
      if (bytes[0] !== VERSION) throw new KafkaError('CORRUPT_MESSAGE', `${what}: unknown version ${bytes[0]}`);
      const instruction = bytes[1]!;
      if (instruction > Instruction.propagateOnlyIfFkValAvailable) throw new KafkaError('CORRUPT_MESSAGE', `${what}: unknown instruction ${instruction}`);
      const { hash, end } = readHash(bytes, 2, what);
      need(bytes, end + 4, what);
      return { instruction: instruction as InstructionValue, hash, primaryPartition: readInt32BE(bytes, end), primaryKey: primaryKey.deserialize(bytes.subarray(end + 4)) };
    },
  };
}

/**
 * The response topic's values, keyed by the left row's key:
 *
 *   0  version        int8 (0)
 *   1  hash length    int8 (0: no hash, or 16)
 *   2  hash           16 bytes when present
 *   .  value present  int8 (0: the right side has no value, 1: it follows)
 *   .  foreign value  the right table's value serde's bytes, to the end
 */
export function responseSerde<VO>(foreignValue: Serde<VO>): Serde<SubscriptionResponse<VO>> {
  const what = 'a foreign-key join response';
  return {
    serialize: ({ hash, foreignValue: value }) => {
      const valueBytes = value === null ? new Uint8Array(0) : foreignValue.serialize(value);
      const hashLength = hash === null ? 0 : HASH_BYTES;
      const bytes = new Uint8Array(2 + hashLength + 1 + valueBytes.length);
      bytes[0] = VERSION;
      bytes[1] = hashLength;
      if (hash !== null) bytes.set(hash, 2);
      bytes[2 + hashLength] = value === null ? 0 : 1;
      bytes.set(valueBytes, 3 + hashLength);
      return bytes;
    },
    deserialize: (bytes) => {
      need(bytes, 2, what);
      if (bytes[0] !== VERSION) throw new KafkaError('CORRUPT_MESSAGE', `${what}: unknown version ${bytes[0]}`);
      const { hash, end } = readHash(bytes, 1, what);
      need(bytes, end + 1, what);
      const present = bytes[end] === 1;
      return { hash, foreignValue: present ? foreignValue.deserialize(bytes.subarray(end + 1)) : null, primaryPartition: -1 };
    },
  };
}

/**
 * The subscription store's keys: the foreign key's bytes with their length first, so every
 * subscriber of a foreign key shares the prefix (length, foreign key) and a prefix scan finds them:
 *
 *   0  foreign key length  int32, big-endian
 *   4  foreign key         the right table's key serde's bytes
 *   .  primary key         the left table's key serde's bytes, to the end (absent in a prefix)
 */
export function combinedKeySerde<KO, K>(foreignKey: Serde<KO>, primaryKey: Serde<K>): Serde<CombinedKey<KO, K>> {
  return {
    serialize: ({ foreignKey: fk, primaryKey: pk }) => {
      const fkBytes = foreignKey.serialize(fk);
      const pkBytes = pk === undefined ? new Uint8Array(0) : primaryKey.serialize(pk);
      const bytes = new Uint8Array(4 + fkBytes.length + pkBytes.length);
      writeInt32BE(bytes, 0, fkBytes.length);
      bytes.set(fkBytes, 4);
      bytes.set(pkBytes, 4 + fkBytes.length);
      return bytes;
    },
    deserialize: (bytes) => {
      need(bytes, 4, 'a subscription store key');
      const length = readInt32BE(bytes, 0);
      need(bytes, 4 + length, 'a subscription store key');
      return { foreignKey: foreignKey.deserialize(bytes.subarray(4, 4 + length)), primaryKey: primaryKey.deserialize(bytes.subarray(4 + length)) };
    },
  };
}

/**
 * The subscription store's values:
 *
 *   0   timestamp          int64, big-endian (the subscription record's)
 *   8   primary partition  int32, big-endian
 *   12  hash               16 bytes
 */
export const storedSubscriptionSerde: Serde<StoredSubscription> = {
  serialize: ({ hash, primaryPartition, timestamp }) => {
    const bytes = new Uint8Array(12 + HASH_BYTES);
    writeInt64BE(bytes, 0, timestamp);
    writeInt32BE(bytes, 8, primaryPartition);
    bytes.set(hash, 12);
    return bytes;
  },
  deserialize: (bytes) => {
    if (bytes.length !== 12 + HASH_BYTES) throw new KafkaError('CORRUPT_MESSAGE', `a stored subscription has ${12 + HASH_BYTES} bytes, got ${bytes.length}`);
    return { timestamp: readInt64BE(bytes, 0), primaryPartition: readInt32BE(bytes, 8), hash: bytes.slice(12) };
  },
};
