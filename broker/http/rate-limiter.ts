import { HttpProblem } from './problem.ts';

/** A token-bucket limit: `ratePerSecond` tokens refill continuously, up to `burst`. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Token buckets keyed by client or topic. The map is bounded: when it is full, the least recently
 * created bucket is dropped, which at worst lets that key start again with a full bucket.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly nowMs: () => number,
    private readonly maxBuckets = 100_000,
  ) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) {
      throw new Error(`rate limit needs ratePerSecond > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
    }
  }

  /** Takes `cost` tokens from `key`'s bucket, or throws a 429 saying when enough will have refilled. */
  take(key: string, requestedCost: number, what: string): void {
    // A request larger than the burst could never pass; it passes when the bucket is full.
    const cost = Math.min(requestedCost, this.limit.burst);
    const now = this.nowMs();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxBuckets) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
      bucket = { tokens: this.limit.burst, updatedMs: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * this.limit.ratePerSecond);
      bucket.updatedMs = now;
    }
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return;
    }
    const needed = cost - bucket.tokens;
    const retryAfterS = Math.max(1, Math.ceil(needed / this.limit.ratePerSecond));
    throw new HttpProblem('tooManyRequests', `${what} is over its limit of ${this.limit.ratePerSecond}/s (burst ${this.limit.burst})`, {
      headers: { 'retry-after': String(retryAfterS) },
    });
  }
}
