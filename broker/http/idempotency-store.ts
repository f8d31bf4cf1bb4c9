import type { Broker } from '../broker.ts';
import { Acks } from '../log/acks.ts';
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
 * What a keyed produce request is about to append, recorded durably before the first append: the
 * producer id, epoch and base sequence of each partition's batch, and where the records go.
 */
export interface ProduceIntent {
  producerId: number;
  producerEpoch: number;
  /** `[partition, baseSequence]` per batch. */
  sequences: [number, number][];
  partitionCount: number;
  stickyPartition: number;
}

/** One run of a keyed request, as `IdempotencyStore.run` hands it to the request. */
export interface IdempotentAttempt {
  /** The intent an earlier attempt recorded without recording its result (it failed, or the broker crashed). */
  readonly previous: ProduceIntent | undefined;
  /** Records the intent durably (fsynced); call it before appending anything. */
  record(intent: ProduceIntent): Promise<void>;
  /** Whether the attempt ended with its result stored; until then a retry may still resend under the intent. */
  readonly settled: Promise<boolean>;
}

/**
 * Stored in `__http_idempotency`: key = `<principal>\0<topic>\0<Idempotency-Key>`, value (msgpack)
 * either a result `{fingerprint, status, body, createdMs}` (the hash of the request that first used
 * the key and the response it got) or an intent `{fingerprint, intent, createdMs}` written before
 * the records. The topic is compacted (a key's latest record wins) and uses time retention equal
 * to the window, so old entries leave the disk with their segments, and replay skips any that expired.
 */
interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  body: unknown;
  createdMs: number;
}

interface IntentRecord {
  fingerprint: string;
  intent: ProduceIntent;
  createdMs: number;
}

function isIntentRecord(value: IdempotencyRecord | IntentRecord): value is IntentRecord {
  return 'intent' in value;
}

/**
 * Exactly-once ingestion for requests carrying an `Idempotency-Key`: the first request runs and
 * its response is stored before it is sent (fsynced, unless a durable intent covers it, see
 * below); a retry with the same key and the
 * same request gets the stored response without appending again, also after a restart. A retry
 * arriving while the first is still running waits for it. Reusing a key for a different request
 * is a 409.
 *
 * The records and the stored result are separate appends; a crash between them is covered by the
 * intent: the request records its producer id and sequences before appending, so a retry after
 * the crash resends the very same idempotent batches and the broker answers with the original
 * offsets if they reached the log. This holds while the broker still remembers that producer
 * (`producer.id.expiration.ms`, default 24 h, measured from the crash). Requests with acks other
 * than all record no intent: their records may be lost in a crash even after the answer.
 */
export class IdempotencyStore {
  private readonly results = new Map<string, IdempotencyRecord>();
  /** Intents whose results were never recorded, bounded like the results. */
  private readonly intents = new Map<string, IntentRecord>();
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
      // A key's result supersedes its intent, so compaction keeps one record per key and time
      // retention drops keys past the window.
      'cleanup.policy': 'compact,delete',
      'retention.ms': String(options.windowMs),
      'segment.ms': String(segmentMs),
    });
    const idempotency = new IdempotencyStore(store, options, nowMs);
    await store.replay((key, value) => {
      const record = value as IdempotencyRecord | IntentRecord;
      if (isIntentRecord(record)) idempotency.rememberIntent(key, record);
      else idempotency.remember(key, record);
    });
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
    this.intents.delete(key);
    this.results.delete(key);
    this.results.set(key, record);
    this.bound(this.results);
  }

  private rememberIntent(key: string, record: IntentRecord): void {
    this.intents.delete(key);
    this.intents.set(key, record);
    this.bound(this.intents);
  }

  private bound(map: Map<string, unknown>): void {
    while (map.size > this.options.maxKeys) {
      const oldest = map.keys().next();
      if (oldest.done === true) break;
      map.delete(oldest.value);
      this.evicted++;
    }
  }

  private expire(): void {
    const cutoffMs = this.nowMs() - this.options.windowMs;
    for (const map of [this.results, this.intents]) {
      for (const [key, record] of map) {
        if (record.createdMs > cutoffMs) break;
        map.delete(key);
      }
    }
  }

  /**
   * Runs `execute` once per key within the window. Resolves with the result and whether it was a
   * replay. Results of failed runs (thrown errors) are not stored, so the request can be retried.
   */
  async run(key: string, fingerprint: string, execute: (attempt: IdempotentAttempt) => Promise<StoredResult>): Promise<{ result: StoredResult; replayed: boolean }> {
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
    const previous = this.intents.get(key);
    if (previous !== undefined) this.assertSameRequest(previous.fingerprint, fingerprint);
    let intentStored = previous !== undefined;
    let settle: (resultStored: boolean) => void = () => undefined;
    const attempt: IdempotentAttempt = {
      previous: previous?.intent,
      settled: new Promise((resolve) => (settle = resolve)),
      record: async (intent) => {
        const record: IntentRecord = { fingerprint, intent, createdMs: previous?.createdMs ?? this.nowMs() };
        await this.store.append([{ key, value: record }]);
        this.rememberIntent(key, record);
        intentStored = true;
      },
    };
    const done = (async (): Promise<StoredResult> => {
      try {
        const result = await execute(attempt);
        const record: IdempotencyRecord = { fingerprint, status: result.status, body: result.body, createdMs: this.nowMs() };
        // With a durable intent a lost result costs nothing: a retry resends the intent's idempotent
        // batches and gets the same offsets. So the answer need not wait for the result's fsync.
        await this.store.append([{ key, value: record }], intentStored ? Acks.leader : Acks.all);
        this.remember(key, record);
        settle(true);
        return result;
      } catch (error) {
        settle(false);
        throw error;
      }
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
