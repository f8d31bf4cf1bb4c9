import {
  ApiKey,
  decodeRequest,
  encodeResponse,
  encodeResponseParts,
  type ApiVersionsResponse,
  type DecodedRequest,
  type RequestBodies,
  type RequestHeader,
  type ResponseBodies,
  UnsupportedApiError,
} from '../../sdk/protocol/mod.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../broker.ts';
import type { AdvertisedListener, AnyApiHandler, RequestContext } from './api-handler.ts';
import type { ConnectionInfo, RequestHandler } from './kafka-connection.ts';

export interface DispatcherOptions {
  broker: Broker;
  advertised: AdvertisedListener;
  clusterId: string;
  handlers: readonly AnyApiHandler[];
}

/**
 * Decodes each request, routes it to its API's handler and encodes the response. A frame that
 * cannot be decoded, or names an API or version the broker does not advertise, closes the
 * connection (what Kafka does), except ApiVersions: a client probing a version above ours gets
 * error 35 in a v0 body and v0 header, so it can retry with a version we support (KIP-511).
 */
export class RequestDispatcher {
  private readonly handlers = new Map<number, AnyApiHandler>();

  constructor(private readonly options: DispatcherOptions) {
    for (const handler of options.handlers) {
      if (this.handlers.has(handler.apiKey)) throw new Error(`invariant: two handlers for api key ${handler.apiKey}`);
      this.handlers.set(handler.apiKey, handler);
    }
  }

  /** The advertised API versions, sorted by api key, as ApiVersions reports them. */
  advertisedVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.handlers.values()]
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  readonly handle: RequestHandler = (frame, connection) => {
    let request: DecodedRequest;
    try {
      request = decodeRequest(frame);
    } catch (error) {
      if (error instanceof UnsupportedApiError && error.apiKey === ApiKey.ApiVersions) {
        return Promise.resolve(this.unsupportedApiVersions(error.correlationId));
      }
      return Promise.reject(error);
    }
    const handler = this.handlers.get(request.apiKey);
    if (handler === undefined || request.apiVersion < handler.minVersion || request.apiVersion > handler.maxVersion) {
      if (request.apiKey === ApiKey.ApiVersions) {
        return Promise.resolve(this.unsupportedApiVersions(request.header.correlationId));
      }
      return Promise.reject(
        new KafkaError('UNSUPPORTED_VERSION', `api key ${request.apiKey} version ${request.apiVersion} is not advertised`),
      );
    }
    return this.run(handler, request, connection);
  };

  /**
   * Serves a typed request without encoding (the embedded transport): the same handler table and
   * version checks as the wire path, but an unadvertised API or version rejects with UNSUPPORTED_VERSION.
   */
  handleTyped<K extends ApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestBodies[K],
    header: RequestHeader,
    connection: ConnectionInfo,
  ): Promise<ResponseBodies[K] | undefined> {
    const handler = this.handlers.get(apiKey);
    if (handler === undefined || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      return Promise.reject(new KafkaError('UNSUPPORTED_VERSION', `api key ${apiKey} version ${apiVersion} is not advertised`));
    }
    const handle = handler.handle as (body: RequestBodies[K], context: RequestContext) => Promise<ResponseBodies[K] | undefined>;
    return handle(body, this.context(connection, apiVersion, header));
  }

  private context(connection: ConnectionInfo, apiVersion: number, header: RequestHeader): RequestContext {
    return { broker: this.options.broker, apiVersion, header, connection, advertised: this.options.advertised, clusterId: this.options.clusterId };
  }

  private run(handler: AnyApiHandler, request: DecodedRequest, connection: ConnectionInfo): Promise<Uint8Array[] | undefined> {
    // The handler was looked up by this request's api key, so its body and response types match;
    // TypeScript cannot correlate the two unions, hence the widening.
    const handle = handler.handle as (body: DecodedRequest['body'], context: RequestContext) => Promise<object | undefined>;
    // Called synchronously so the handler's side effects happen in the connection's request order.
    const pending = handle(request.body, this.context(connection, request.apiVersion, request.header));
    return pending.then((body) =>
      body === undefined
        ? undefined
        : encodeResponseParts(request.apiKey, request.apiVersion, request.header.correlationId, body as ResponseBodies[ApiKey]),
    );
  }

  private unsupportedApiVersions(correlationId: number): Uint8Array[] {
    const body: ApiVersionsResponse = {
      errorCode: 35,
      apiKeys: this.advertisedVersions(),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
    return [encodeResponse(ApiKey.ApiVersions, 0, correlationId, body)];
  }
}
