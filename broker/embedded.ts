import { ApiKey, type RequestBodies, type ResponseBodies } from '../sdk/protocol/mod.ts';
import { KafkaError } from '../sdk/protocol/kafka-error.ts';
import type { BrokerNode, SendOptions, Transport } from '../sdk/transport/transport.ts';
import { NegotiatedVersions } from '../sdk/transport/version-negotiation.ts';
import type { Broker } from './broker.ts';
import type { AdvertisedListener } from './kafka/api-handler.ts';
import { allApiHandlers } from './kafka/apis/all-handlers.ts';
import { apiVersionsHandler } from './kafka/apis/api-versions.ts';
import type { ConnectionInfo } from './kafka/kafka-connection.ts';
import { ANONYMOUS } from './security/kafka-principal.ts';
import { RequestDispatcher } from './kafka/request-dispatcher.ts';

export interface EmbeddedTransportOptions {
  clientId?: string;
  requestTimeoutMs?: number;
}

let nextEmbeddedConnectionId = 1;

/**
 * The in-process transport: typed requests go straight to the broker's Kafka API handlers (the
 * same table the TCP listener dispatches to), with no encoding, sockets or copies of record bytes.
 * Each transport is one logical connection, so its requests are served in call order as over TCP.
 */
export class EmbeddedTransport implements Transport {
  private readonly dispatcher: RequestDispatcher;
  private readonly versions: NegotiatedVersions;
  private readonly node: BrokerNode;
  private readonly connection: ConnectionInfo;
  private readonly abort = new AbortController();
  private readonly clientId: string;
  private readonly requestTimeoutMs: number;
  private nextCorrelationId = 0;

  constructor(broker: Broker, options: EmbeddedTransportOptions = {}) {
    const advertised: AdvertisedListener = { nodeId: broker.config.nodeId, host: 'embedded', port: 0 };
    const dispatcher: RequestDispatcher = new RequestDispatcher({
      broker,
      advertised,
      clusterId: broker.clusterId,
      handlers: [...allApiHandlers, apiVersionsHandler(() => dispatcher.advertisedVersions())],
    });
    this.dispatcher = dispatcher;
    this.versions = new NegotiatedVersions(dispatcher.advertisedVersions());
    this.node = { nodeId: advertised.nodeId, host: advertised.host, port: advertised.port };
    this.connection = {
      id: -nextEmbeddedConnectionId++,
      remoteAddress: 'embedded',
      closed: this.abort.signal,
      principal: ANONYMOUS,
      closeAfterResponses: () => this.abort.abort(),
    };
    this.clientId = options.clientId ?? 'rill';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  apiVersion(apiKey: ApiKey): Promise<number> {
    try {
      return Promise.resolve(this.versions.version(apiKey));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  supports(apiKey: ApiKey): Promise<boolean> {
    return Promise.resolve(this.versions.supports(apiKey));
  }

  brokers(): readonly BrokerNode[] {
    return [this.node];
  }

  async send<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options: SendOptions = {}): Promise<ResponseBodies[K]> {
    const response = await this.dispatch(apiKey, version, body, options);
    if (response === undefined) throw new Error(`invariant: the broker gave no response to api key ${apiKey} that expects one`);
    return response;
  }

  async sendWithoutResponse<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options: SendOptions = {}): Promise<void> {
    await this.dispatch(apiKey, version, body, options);
  }

  close(): Promise<void> {
    this.abort.abort(new KafkaError('NETWORK_EXCEPTION', 'the transport is closed'));
    return Promise.resolve();
  }

  private dispatch<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options: SendOptions): Promise<ResponseBodies[K] | undefined> {
    if (this.abort.signal.aborted) return Promise.reject(this.abort.signal.reason);
    if (options.nodeId !== undefined && options.nodeId !== this.node.nodeId) {
      return Promise.reject(new KafkaError('BROKER_NOT_AVAILABLE', `no broker with node id ${options.nodeId}; the embedded broker is ${this.node.nodeId}`));
    }
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (correlationId + 1) & 0x7fff_ffff;
    const header = { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: this.clientId };
    const pending = this.dispatcher.handleTyped(apiKey, version, body, header, this.connection);
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KafkaError('REQUEST_TIMED_OUT', `no response to api key ${apiKey} within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }
}

/** An EmbeddedTransport over `broker`, typed as the Transport interface the clients take. */
export function embeddedTransport(broker: Broker, options?: EmbeddedTransportOptions): Transport {
  return new EmbeddedTransport(broker, options);
}
