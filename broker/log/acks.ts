/** The produce `acks` setting: when an append may be acknowledged. */
export const Acks = {
  /** Fire and forget: acknowledged once validated and written to the OS. */
  none: 0,
  /** Acknowledged once the write reaches the OS (page cache); a power loss can still take it. */
  leader: 1,
  /** Acknowledged only after the bytes are fsynced. */
  all: -1,
} as const;

export type AcksValue = (typeof Acks)[keyof typeof Acks];
