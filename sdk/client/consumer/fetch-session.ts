import { ErrorCode } from '../../protocol/error-codes.ts';

/** Fetch v7 introduced sessions (KIP-227). */
const FIRST_SESSION_VERSION = 7;
/** Epoch 0 opens a session (closing the one named, if any) with a full fetch; -1 fetches without one. */
const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;

/** One partition as a fetch request carries it. */
export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
}

/** What one fetch request sends under the session: its id and epoch, the partitions to send and the ones to forget. */
export interface SessionFetch {
  sessionId: number;
  sessionEpoch: number;
  /** All wanted partitions on a full fetch; only added or changed ones on an incremental fetch. */
  partitions: FetchPartitionRequest[];
  /** Partitions the session holds that are no longer wanted, by topic. */
  forgotten: { topic: string; partitions: number[] }[];
  /** The partitions wanted by this request (sent or already held by the session). */
  wanted: ReadonlyMap<string, FetchPartitionRequest>;
  full: boolean;
}

function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/**
 * A consumer's fetch session with one broker (KIP-227), kept as Kafka's FetchSessionHandler keeps
 * it: the partitions the broker's session holds and the fetch offset and max bytes last sent for
 * each. The first fetch is full and opens the session; later ones carry only partitions that were
 * added or changed (a partition that returned records has a new fetch offset) and forget the ones
 * no longer wanted (unassigned, paused, backing off), so a consumer of many quiet partitions stops
 * resending them all. Any failure (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, another
 * error, a lost connection) starts over with a full fetch that closes the old session. A broker
 * with no room for a session answers session id 0, and every fetch stays full.
 */
export class FetchSessionHandler {
  private sessionId = 0;
  private nextEpoch = INITIAL_EPOCH;
  /** What the broker's session holds, bounded by the consumer's assignment. */
  private readonly held = new Map<string, FetchPartitionRequest>();

  build(wanted: readonly FetchPartitionRequest[], apiVersion: number): SessionFetch {
    const byKey = new Map(wanted.map((p) => [keyOf(p.topic, p.partition), p]));
    if (apiVersion < FIRST_SESSION_VERSION) return { sessionId: 0, sessionEpoch: FINAL_EPOCH, partitions: [...wanted], forgotten: [], wanted: byKey, full: true };
    if (this.nextEpoch === INITIAL_EPOCH) return { sessionId: this.sessionId, sessionEpoch: INITIAL_EPOCH, partitions: [...wanted], forgotten: [], wanted: byKey, full: true };
    const partitions = wanted.filter((p) => {
      const held = this.held.get(keyOf(p.topic, p.partition));
      return held === undefined || held.fetchOffset !== p.fetchOffset || held.partitionMaxBytes !== p.partitionMaxBytes;
    });
    const forgotten = new Map<string, number[]>();
    for (const [key, held] of this.held) {
      if (byKey.has(key)) continue;
      const list = forgotten.get(held.topic) ?? [];
      list.push(held.partition);
      forgotten.set(held.topic, list);
    }
    return {
      sessionId: this.sessionId,
      sessionEpoch: this.nextEpoch,
      partitions,
      forgotten: [...forgotten].map(([topic, list]) => ({ topic, partitions: list })),
      wanted: byKey,
      full: false,
    };
  }

  /**
   * Takes the response's top-level error and session id. Returns whether the session failed
   * (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH): the next fetch is full, and the
   * caller refetches at once instead of treating it as an error.
   */
  onResponse(fetch: SessionFetch, errorCode: number, responseSessionId: number): boolean {
    if (fetch.sessionEpoch === FINAL_EPOCH) return false;
    if (errorCode !== ErrorCode.NONE) {
      this.restart();
      return errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND || errorCode === ErrorCode.INVALID_FETCH_SESSION_EPOCH;
    }
    if (fetch.full) {
      this.held.clear();
      this.sessionId = responseSessionId;
      // Session id 0: the broker kept no session; the next fetch asks for one again.
      if (responseSessionId === 0) return false;
      for (const [key, p] of fetch.wanted) this.held.set(key, p);
      this.nextEpoch = 1;
      return false;
    }
    for (const p of fetch.partitions) this.held.set(keyOf(p.topic, p.partition), p);
    for (const { topic, partitions } of fetch.forgotten) for (const partition of partitions) this.held.delete(keyOf(topic, partition));
    this.nextEpoch = this.nextEpoch === 0x7fff_ffff ? 1 : this.nextEpoch + 1;
    return false;
  }

  /**
   * The fetch that closes the broker's session (epoch -1 naming it, no partitions), or undefined when
   * the broker holds none for this consumer; the handler forgets the session either way.
   */
  close(): { sessionId: number; sessionEpoch: number } | undefined {
    const open = this.sessionId !== 0 && this.nextEpoch !== INITIAL_EPOCH ? { sessionId: this.sessionId, sessionEpoch: FINAL_EPOCH } : undefined;
    this.sessionId = 0;
    this.restart();
    return open;
  }

  /** The request failed without an answer the session can trust: the next fetch is full and replaces the session. */
  restart(): void {
    this.held.clear();
    this.nextEpoch = INITIAL_EPOCH;
  }
}
