/** What the harness needs from one system under test: a started server and a client connected to it. */
export interface PeerSession {
  /**
   * Writes `count` records, each with `value` as its payload, to a fresh stream named `stream`,
   * keeping many in flight; resolves once the server has acknowledged every one.
   */
  produce(stream: string, count: number, value: Uint8Array): Promise<void>;
  /** Reads `stream` from its start until `count` records arrived; resolves with the payload bytes seen. */
  consume(stream: string, count: number): Promise<number>;
  /**
   * Creates a fresh stream and a subscriber on it that calls `onValue` with each record's payload
   * as it arrives; resolves once the subscriber is listening.
   */
  openLatency(stream: string, onValue: (value: Uint8Array) => void): Promise<LatencyLink>;
  /** Closes the clients and stops the server. */
  close(): Promise<void>;
}

export interface LatencyLink {
  /** Sends one record at once (no batching delay); resolves on the server's acknowledgement. */
  send(value: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface PeerDriver {
  /** Column name, e.g. "NATS JetStream". */
  readonly name: string;
  /** Short key for the JSON line. */
  readonly key: string;
  /** Why the server can't run here (missing binary), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Starts the server (bound to 127.0.0.1, data in a temp dir) and connects the clients. */
  open(): Promise<PeerSession>;
  /** What an acknowledged record survives, and how the benchmark configured it. */
  readonly durability: string;
  /** The layout: streams/partitions, client, acknowledgement mode. */
  readonly shape: string;
}

/**
 * Keeps at most `window` records in flight: `issue(i)` starts record i and returns its completion.
 * Completions are awaited in chunks so the window costs no per-record bookkeeping.
 */
export async function windowed(count: number, window: number, chunk: number, issue: (i: number) => Promise<unknown>): Promise<void> {
  const chunks: Promise<unknown>[] = [];
  for (let start = 0; start < count; start += chunk) {
    const end = Math.min(count, start + chunk);
    const pending: Promise<unknown>[] = new Array(end - start);
    for (let i = start; i < end; i++) pending[i - start] = issue(i);
    chunks.push(Promise.all(pending));
    while (chunks.length * chunk >= window) await chunks.shift();
  }
  await Promise.all(chunks);
}
