import type { BinaryString } from './binary-string.ts';
import { WINDOW_START_BYTES, windowKeyOf, startOfWindowKey } from './window-key.ts';

/**
 * The key of one session in a session store, its changelog and its snapshots, Kafka Streams'
 * SessionKeySchema.toBinary (the layout its session stores and SessionWindowedSerde use):
 *
 *   0       key    the key serde's bytes
 *   n       end    int64, big-endian: the session's end (its last record's timestamp), ms
 *   n + 8   start  int64, big-endian: the session's start (its first record's timestamp), ms
 *
 * Entries are in the byte order of this key: one key's sessions by end, then start (both never
 * negative, so big-endian bytes sort as the numbers). As with window keys, a key that is a proper
 * prefix of another may interleave with it, so a fetch by key skips entries whose key part is not
 * the key it asked for.
 */
export const SESSION_SUFFIX_BYTES = 2 * WINDOW_START_BYTES;

/** `binaryKey` (the key serde's bytes) followed by the session's end and start. */
export function sessionKeyOf(binaryKey: BinaryString, startMs: number, endMs: number): BinaryString {
  if (endMs < startMs) throw new Error(`invariant: a session ends (${endMs}) before it starts (${startMs})`);
  // windowKeyOf appends one big-endian int64 (and asserts it is a non-negative safe integer).
  return windowKeyOf(windowKeyOf(binaryKey, endMs), startMs);
}

export function startOfSessionKey(sessionKey: BinaryString): number {
  return startOfWindowKey(sessionKey);
}

export function endOfSessionKey(sessionKey: BinaryString): number {
  if (sessionKey.length < SESSION_SUFFIX_BYTES) throw new Error(`invariant: a session key of ${sessionKey.length} bytes is shorter than its end and start`);
  return startOfWindowKey(sessionKey.slice(0, sessionKey.length - WINDOW_START_BYTES));
}

/** The key part (the key serde's bytes) of a session key. */
export function keyOfSessionKey(sessionKey: BinaryString): BinaryString {
  return sessionKey.slice(0, sessionKey.length - SESSION_SUFFIX_BYTES);
}

/** Whether `sessionKey` is one of `binaryKey`'s sessions (its key part is exactly `binaryKey`). */
export function isSessionOf(sessionKey: BinaryString, binaryKey: BinaryString): boolean {
  return sessionKey.length === binaryKey.length + SESSION_SUFFIX_BYTES && sessionKey.startsWith(binaryKey);
}
