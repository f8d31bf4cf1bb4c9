import type { ApiKey, RequestBodies, ResponseBodies, RequestHeader } from '../../sdk/protocol/mod.ts';
import type { Broker } from '../broker.ts';
import type { ConnectionInfo } from './kafka-connection.ts';

/** The address clients are told to connect to (Metadata's broker list, FindCoordinator). */
export interface AdvertisedListener {
  nodeId: number;
  host: string;
  port: number;
}

export interface RequestContext {
  broker: Broker;
  apiVersion: number;
  header: RequestHeader;
  connection: ConnectionInfo;
  advertised: AdvertisedListener;
  clusterId: string;
}

/**
 * Serves one API. `minVersion`/`maxVersion` are what the broker advertises in ApiVersions, so only
 * versions whose semantics the handler implements belong there. A handler answers expected
 * failures inside the response body (Kafka error codes per topic or partition), returns
 * `undefined` when the request gets no response (Produce with acks=0), and throws only on broken
 * invariants.
 */
export interface ApiHandler<K extends ApiKey> {
  apiKey: K;
  minVersion: number;
  maxVersion: number;
  handle(request: RequestBodies[K], context: RequestContext): Promise<ResponseBodies[K] | undefined>;
}

/** A handler of any API, as held in the dispatcher's table. */
export type AnyApiHandler = { [K in ApiKey]: ApiHandler<K> }[ApiKey];
