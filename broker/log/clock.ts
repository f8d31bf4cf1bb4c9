/** Wall-clock time, injected so tests can drive segment rolling and retention. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
