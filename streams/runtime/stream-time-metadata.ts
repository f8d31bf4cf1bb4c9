/**
 * A task's stream time travels with its committed offsets, in the commit's metadata string, so a
 * task that moves to another process or restarts resumes with the stream time it committed:
 * windows that closed stay closed, suppressed results and stream-time punctuations are not held
 * back until new records catch up.
 *
 * Format (Kafka Streams' offset-metadata version 1, which its StreamTask decodes too): base64 of
 * one version byte (1) and the stream time as a signed 64-bit big-endian integer. Any other string
 * (empty, another client's metadata, a later version) reads as "no stream time".
 */
const VERSION = 1;
const LENGTH = 9;

export function encodeStreamTime(streamTimeMs: number): string {
  const bytes = new Uint8Array(LENGTH);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, VERSION);
  view.setBigInt64(1, BigInt(streamTimeMs));
  return btoa(String.fromCharCode(...bytes));
}

/** The stream time in `metadata`, undefined when it holds none. */
export function decodeStreamTime(metadata: string | null): number | undefined {
  if (metadata === null || metadata.length === 0) return undefined;
  let text: string;
  try {
    text = atob(metadata);
  } catch {
    return undefined;
  }
  if (text.length !== LENGTH || text.charCodeAt(0) !== VERSION) return undefined;
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  return Number(new DataView(bytes.buffer).getBigInt64(1));
}
