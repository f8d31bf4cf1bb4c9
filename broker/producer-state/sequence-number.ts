/** Sequence numbers are int32 and wrap from INT32_MAX to 0 (KIP-98). */
export const INT32_MAX = 0x7fff_ffff;

/** `sequence + increment`, wrapping past INT32_MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence). */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

/** Whether `nextSequence` directly follows `lastSequence`. */
export function inSequence(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === lastSequence + 1 || (nextSequence === 0 && lastSequence === INT32_MAX);
}
