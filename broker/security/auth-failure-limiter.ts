/**
 * Counts failed authentications per source address (IP, without port) in a fixed window; an
 * address past `maxFailures` is refused until its window ends, without its credentials being
 * checked, which bounds password guessing and the hashing work it costs. The map holds at most
 * `maxAddresses` entries; the oldest window is dropped first.
 */
export interface AuthFailureLimits {
  maxFailures: number;
  windowMs: number;
  maxAddresses: number;
}

export const defaultAuthFailureLimits: Readonly<AuthFailureLimits> = Object.freeze({ maxFailures: 10, windowMs: 60_000, maxAddresses: 10_000 });

interface Window {
  startMs: number;
  failures: number;
}

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limits: AuthFailureLimits,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Whether `address` may try to authenticate now. */
  allows(address: string): boolean {
    const window = this.current(address);
    return window === undefined || window.failures < this.limits.maxFailures;
  }

  recordFailure(address: string): void {
    let window = this.current(address);
    if (window === undefined) {
      if (this.windows.size >= this.limits.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
      window = { startMs: this.nowMs(), failures: 0 };
      this.windows.set(address, window);
    }
    window.failures++;
  }

  get trackedAddresses(): number {
    return this.windows.size;
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window !== undefined && this.nowMs() - window.startMs >= this.limits.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }
}
