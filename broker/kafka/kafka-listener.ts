import type { Broker } from '../broker.ts';
import { SaslAuthentication, type SaslListenerOptions } from '../security/sasl-authentication.ts';
import { type KafkaTlsOptions, tlsServerOptions } from '../security/tls-config.ts';
import { authorizeHandlers, type PrincipalResolver } from '../auth/authorize-handlers.ts';
import type { AdvertisedListener } from './api-handler.ts';
import { allApiHandlers } from './apis/all-handlers.ts';
import { apiVersionsHandler } from './apis/api-versions.ts';
import { defaultKafkaServerLimits, KafkaServer, type KafkaServerOptions } from './kafka-server.ts';
import type { KafkaTrafficTotals } from './kafka-traffic.ts';
import { RequestDispatcher } from './request-dispatcher.ts';

export interface KafkaListenerOptions {
  host: string;
  port: number;
  /** What Metadata tells clients to connect to; defaults to the bound address (127.0.0.1 for a wildcard bind). */
  advertisedHost?: string;
  advertisedPort?: number;
  limits?: Partial<Omit<KafkaServerOptions, 'host' | 'port' | 'handler' | 'tls'>>;
  /** TLS on this listener (Kafka's SSL and SASL_SSL security protocols). */
  tls?: KafkaTlsOptions;
  /** SASL authentication on this listener (SASL_PLAINTEXT, or SASL_SSL with `tls`). */
  sasl?: SaslListenerOptions;
  /** Who a request comes from when its connection has no authenticated principal (tests, embedders); see broker/auth/. */
  principalResolver?: PrincipalResolver;
}

const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '']);

/** The broker's Kafka protocol endpoint: a TCP listener plus the dispatcher over the broker object. */
export class KafkaListener {
  private constructor(
    private readonly server: KafkaServer,
    readonly advertised: AdvertisedListener,
    private readonly tls: KafkaTlsOptions | undefined,
    /** The listener's SASL state (failure counts), undefined without SASL. */
    readonly sasl: SaslAuthentication | undefined,
  ) {}

  static async start(broker: Broker, options: KafkaListenerOptions): Promise<KafkaListener> {
    const advertised: AdvertisedListener = {
      nodeId: broker.config.nodeId,
      host: options.advertisedHost ?? (WILDCARDS.has(options.host) ? '127.0.0.1' : options.host),
      port: options.advertisedPort ?? options.port,
    };
    const sasl =
      options.sasl === undefined
        ? undefined
        : new SaslAuthentication(broker.scramCredentials, { onFailure: (failure) => broker.audit.authenticationFailed(failure), ...options.sasl });
    const handlers = [...allApiHandlers, ...(sasl?.handlers() ?? [])];
    const dispatcher: RequestDispatcher = new RequestDispatcher({
      broker,
      advertised,
      clusterId: broker.clusterId,
      // Guarded always: the guards check only while the broker has an authorizer.
      handlers: authorizeHandlers([...handlers, apiVersionsHandler(() => dispatcher.advertisedVersions())], options.principalResolver),
    });
    const server = await KafkaServer.listen({
      ...defaultKafkaServerLimits,
      ...options.limits,
      host: options.host,
      port: options.port,
      handler: sasl === undefined ? dispatcher.handle : sasl.gate(dispatcher.handle),
      ...(options.tls === undefined ? {} : { tls: tlsServerOptions(options.tls) }),
    });
    if (options.advertisedPort === undefined) advertised.port = server.port;
    return new KafkaListener(server, advertised, options.tls, sasl);
  }

  /**
   * Re-reads the certificate, key and CA files (after renewal; `rill start` calls this on SIGHUP).
   * New connections get them; open connections stay up on the session they negotiated. A file
   * that cannot be read or parsed throws and leaves the current certificate in place.
   */
  reloadTls(): void {
    if (this.tls === undefined) throw new Error('this Kafka listener does not serve TLS');
    this.server.reloadTls(tlsServerOptions(this.tls));
  }

  get port(): number {
    return this.server.port;
  }

  get connectionCount(): number {
    return this.server.connectionCount;
  }

  /** Request bytes held in memory across every connection right now. */
  get requestMemoryBytes(): number {
    return this.server.requestMemoryBytes;
  }

  /** Wire bytes and requests since the listener started; the HTTP API exports them (its `kafkaTraffic` option). */
  get traffic(): KafkaTrafficTotals {
    return this.server.traffic;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
