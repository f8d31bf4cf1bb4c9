import type { Broker } from '../broker.ts';
import { InternalTopic } from './internal-topic.ts';
import { HttpProblem } from './problem.ts';

export const IDEMPOTENCY_TOPIC = '__http_idempotency';

export interface IdempotencyOptions {
  /** How long a key's result is kept and replayed (default 24 h). */
  windowMs: number;
  /** Bound on the keys held in memory; past it the oldest are forgotten first. */
  maxKeys: number;
}

export interface StoredResult {
  status: number;
  body: unknown;
}

/**
 * Stored in `__http_idempotency`: key = `<principal>\0<topic>\0<Idempotency-Key>`, value (msgpack)
 * = `{fingerprint, status, body, createdMs}`: the hash of the request that first used the key and
 * the response it got. The topic uses time retention equal to the window, so old entries leave
 * the disk with their segments, and replay skips any that expired.
 */
interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  body: unknown;
  createdMs: number;
}

/**
 * Exactly-once ingestion for requests carrying an `Idempotency-Key`: the first request runs and
 * its response is stored durably (fsynced) before it is sent; a retry with the same key and the
 * same request gets the stored response without appending again, also after a restart. A retry
 * arriving while the first is still running waits for it. Reusing a key for a different request
 * is a 409.
 *
 * Known gap: the records and the stored result are two appends. A crash (not a clean shutdown,
 * which drains requests first) after the first and before the second loses the result, and a
 * retry after it appends again.
 */
export class IdempotencyStore {
  private readonly results = new Map<string, IdempotencyRecord>();
  private readonly running = new Map<string, { fingerprint: string; done: Promise<StoredResult> }>();
  private evicted = 0;

  private constructor(
    private readonly store: InternalTopic,
    private readonly options: IdempotencyOptions,
    private readonly nowMs: () => number,
  ) {}

  static async open(broker: Broker, options: IdempotencyOptions, nowMs: () => number): Promise<IdempotencyStore> {
    const segmentMs = Math.max(1000, Math.floor(options.windowMs / 8));
    const store = await InternalTopic.open(broker, IDEMPOTENCY_TOPIC, {
      'retention.ms': String(options.windowMs),
      'segment.ms': String(segmentMs),
    });
    const idempotency = new IdempotencyStore(store, options, nowMs);
    await store.replay((key, value) => idempotency.remember(key, value as IdempotencyRecord));
    idempotency.expire();
    return idempotency;
  }

  /** Keys forgotten before their window ended because the in-memory bound was reached. */
  get evictedCount(): number {
    return this.evicted;
  }

  get size(): number {
    return this.results.size;
  }

  private remember(key: string, record: IdempotencyRecord): void {
    this.results.delete(key);
    this.results.set(key, record);
    while (this.results.size > this.options.maxKeys) {
      const oldest = this.results.keys().next();
      if (oldest.done === true) break;
      this.results.delete(oldest.value);
      this.evicted++;
    }
  }

  private expire(): void {
    const cutoffMs = this.nowMs() - this.options.windowMs;
    for (const [key, record] of this.results) {
      if (record.createdMs > cutoffMs) break;
      this.results.delete(key);
    }
  }

  /**
   * Runs `execute` once per key within the window. Resolves with the result and whether it was a
   * replay. Results of failed runs (thrown errors) are not stored, so the request can be retried.
   */
  async run(key: string, fingerprint: string, execute: () => Promise<StoredResult>): Promise<{ result: StoredResult; replayed: boolean }> {
    this.expire();
    const stored = this.results.get(key);
    if (stored !== undefined) {
      this.assertSameRequest(stored.fingerprint, fingerprint);
      return { result: { status: stored.status, body: stored.body }, replayed: true };
    }
    const inFlight = this.running.get(key);
    if (inFlight !== undefined) {
      this.assertSameRequest(inFlight.fingerprint, fingerprint);
      return { result: await inFlight.done, replayed: true };
    }
    if (this.running.size >= this.options.maxKeys) {
      throw new HttpProblem('unavailable', 'too many idempotent requests in flight', { headers: { 'retry-after': '1' } });
    }
    const done = (async (): Promise<StoredResult> => {
      const result = await execute();
      const record: IdempotencyRecord = { fingerprint, status: result.status, body: result.body, createdMs: this.nowMs() };
      await this.store.append([{ key, value: record }]);
      this.remember(key, record);
      return result;
    })();
    this.running.set(key, { fingerprint, done });
    try {
      return { result: await done, replayed: false };
    } finally {
      this.running.delete(key);
    }
  }

  private assertSameRequest(stored: string, fingerprint: string): void {
    if (stored !== fingerprint) {
      throw new HttpProblem('conflict', 'this Idempotency-Key was already used for a different request');
    }
  }
}
