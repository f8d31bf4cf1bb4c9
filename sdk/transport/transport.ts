import type { ApiKey, RequestBodies, ResponseBodies } from '../protocol/mod.ts';

/** A broker as Metadata describes it. */
export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
}

export interface SendOptions {
  /** The broker to send to; any known broker when omitted (bootstrap, metadata, admin). */
  nodeId?: number;
  /** Fails the request with REQUEST_TIMED_OUT when no response arrives in time. */
  timeoutMs?: number;
  /**
   * Sends on a connection of its own for this key (with `nodeId`). Kafka answers a connection's
   * requests in order, so a request the broker holds (JoinGroup waits for the whole group) would
   * delay every response behind it, including other members' heartbeats on a shared connection.
   */
  lane?: string;
}

/** The negotiated version range per API: our range intersected with the broker's. */
export interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

/**
 * How the client reaches brokers: typed requests in, typed responses out. `tcp` encodes them in the
 * Kafka protocol; the embedded transport (broker/embedded.ts) hands them to an in-process broker.
 * Implementations agree on semantics, so every client works unchanged over either.
 */
export interface Transport {
  /**
   * The version to send `apiKey` at: min(our max, broker's max). Throws UNSUPPORTED_VERSION when
   * the broker lacks the API or only has versions below our minimum.
   */
  apiVersion(apiKey: ApiKey, nodeId?: number): Promise<number>;
  /** Whether the broker advertises `apiKey` at a version we can speak. */
  supports(apiKey: ApiKey, nodeId?: number): Promise<boolean>;
  send<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options?: SendOptions): Promise<ResponseBodies[K]>;
  /** Sends a request the broker never answers (Produce with acks=0). */
  sendWithoutResponse<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options?: SendOptions): Promise<void>;
  /** Closes the connections opened for `lane`, if any. */
  releaseLane?(lane: string): Promise<void>;
  /** The brokers last seen in a Metadata response (the bootstrap list before the first). */
  brokers(): readonly BrokerNode[];
  close(): Promise<void>;
}
