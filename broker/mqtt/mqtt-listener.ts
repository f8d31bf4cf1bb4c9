import { createServer, type Server, type Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Broker } from '../broker.ts';
import type { TokenConfig } from '../http/http-auth.ts';
import { certificatePrincipal, type TlsListenerOptions, tlsServerOptions } from '../security/tls-config.ts';
import { createTlsListenerServer } from '../security/tls-server.ts';
import { MqttAuthenticator, type MqttPrincipal } from './mqtt-auth.ts';
import { type MqttByteStream, tcpByteStream } from './mqtt-byte-stream.ts';
import { MqttConnection, type MqttConnectionLimits } from './mqtt-connection.ts';
import { MqttDelivery } from './mqtt-delivery.ts';
import { MqttIngest } from './mqtt-ingest.ts';
import { type ConnectPacket, PacketType, type PublishPacket } from './mqtt-packet.ts';
import { MqttRetainedStore } from './mqtt-retained-store.ts';
import { MqttSessionRegistry } from './mqtt-session-registry.ts';
import { MqttWillScheduler } from './mqtt-will-scheduler.ts';
import { MqttSessionStore } from './mqtt-session-store.ts';
import type { MqttMappingRule } from './mqtt-topic-mapping.ts';

export interface MqttLimits extends MqttConnectionLimits {
  maxConnections: number;
  /** The longest session expiry granted, in seconds (a client asking for more gets this). */
  maxSessionExpirySec: number;
  /** Outbound QoS 1 and 2 messages per connection awaiting acknowledgement. */
  maxOutboundInFlight: number;
  maxRetainedMessages: number;
}

export const defaultMqttLimits: Readonly<MqttLimits> = Object.freeze({
  maxConnections: 10_000,
  maxPacketBytes: 1024 * 1024,
  receiveMaximum: 100,
  topicAliasMaximum: 64,
  maxSubscriptionsPerClient: 100,
  connectTimeoutMs: 10_000,
  maxSessionExpirySec: 7 * 24 * 3600,
  maxOutboundInFlight: 100,
  maxRetainedMessages: 100_000,
});

export interface MqttListenerOptions {
  host: string;
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  /** MQTT topic → log topic and key (broker/mqtt/mqtt-topic-mapping.ts); the default mapping without. */
  mapping?: readonly MqttMappingRule[];
  limits?: Partial<MqttLimits>;
  /** Serve CONNECTs without credentials (as User:ANONYMOUS). */
  allowAnonymous?: boolean;
  /** The HTTP API's bearer tokens, accepted as CONNECT passwords. */
  tokens?: readonly TokenConfig[];
  /**
   * Serve MQTT over TLS only (mqtts), with the Kafka listener's TLS code (broker/security/tls-config.ts);
   * a verified client certificate then stands for CONNECT credentials (broker/mqtt/mqtt-auth.ts).
   */
  tls?: TlsListenerOptions;
  /** Also told of TLS handshakes that failed (a plaintext client on the mqtts port), whose sockets are dropped. */
  onError?: (error: unknown, remoteAddress: string) => void;
}

const SESSION_EXPIRY_CHECK_MS = 60_000;

/**
 * The broker's MQTT 3.1.1 and 5.0 endpoint over TCP (`node:net`, or `node:tls` for mqtts, as the
 * Kafka listener): devices publish into the log and subscribe to it. Sessions live in
 * `__mqtt_sessions`, retained messages in `__mqtt_retained`.
 */
export class MqttListener {
  private readonly connections = new Set<MqttConnection>();
  private expiryTimer: ReturnType<typeof setInterval> | undefined;
  private acceptStream: (stream: MqttByteStream) => void = (stream) => stream.destroy();

  private constructor(
    private readonly server: Server,
    /** The listener's TLS settings, undefined when it serves plaintext MQTT. */
    readonly tls: TlsListenerOptions | undefined,
    readonly sessions: MqttSessionRegistry,
    readonly retained: MqttRetainedStore,
    /** Wills waiting out their Will Delay Interval. */
    readonly wills: MqttWillScheduler,
  ) {}

  static async start(broker: Broker, options: MqttListenerOptions): Promise<MqttListener> {
    const limits: MqttLimits = { ...defaultMqttLimits, ...options.limits };
    const rules = options.mapping ?? [];
    const onError = options.onError ?? (() => undefined);
    const store = await MqttSessionStore.open(broker, Date.now());
    const retained = await MqttRetainedStore.open(broker, limits.maxRetainedMessages);
    const registry = new MqttSessionRegistry(broker, store, limits.maxSessionExpirySec);
    const auth = new MqttAuthenticator(broker, { allowAnonymous: options.allowAnonymous ?? true, ...(options.tokens === undefined ? {} : { tokens: options.tokens }) });
    const deliveries = new Set<MqttDelivery>();
    const ingest = new MqttIngest(
      broker,
      rules,
      undefined,
      (packet, topic) => retained.retain(retainedOf(packet, topic)),
      () => {
        for (const delivery of deliveries) delivery.wakeUp();
      },
    );
    const server =
      options.tls === undefined ? createServer({ noDelay: true }) : createTlsListenerServer(tlsServerOptions(options.tls), limits.maxConnections, onError);
    const wills = new MqttWillScheduler((error) => onError(error, 'will'));
    const listener = new MqttListener(server, options.tls, registry, retained, wills);
    const publishWill = async (connect: ConnectPacket, principal: MqttPrincipal): Promise<void> => {
      const will = connect.will!;
      const packet: PublishPacket = { type: PacketType.PUBLISH, dup: false, qos: will.qos, retain: will.retain, topic: will.topic, properties: will.properties, payload: will.payload };
      const target = await ingest.target(packet, will.topic, principal);
      await ingest.append(target, will.qos === 0 ? 0 : 1);
    };
    listener.acceptStream = (socket) => {
      if (listener.connections.size >= limits.maxConnections) {
        socket.destroy();
        return;
      }
      const connection = new MqttConnection(socket, {
        registry,
        wills,
        auth,
        ingest,
        limits,
        startDelivery: (c, session, principal) => {
          const delivery = new MqttDelivery(
            c,
            session,
            principal,
            {
              broker,
              rules,
              retained,
              maxSubscriptionsPerClient: limits.maxSubscriptionsPerClient,
              maxInFlight: limits.maxOutboundInFlight,
              pollWaitMs: 500,
              fetchMaxBytes: 1024 * 1024,
              nowMs: Date.now,
              onError: (error) => onError(error, c.remoteAddress),
            },
            c.clientReceiveMaximum,
          );
          deliveries.add(delivery);
          socket.onceClose(() => deliveries.delete(delivery));
          return delivery;
        },
        publishWill,
        onError,
      });
      listener.connections.add(connection);
      socket.onceClose(() => listener.connections.delete(connection));
    };
    if (options.tls === undefined) server.on('connection', (socket: Socket) => listener.accept(tcpByteStream(socket)));
    else server.on('secureConnection', (socket: TLSSocket) => listener.accept(tcpByteStream(socket, certificatePrincipal(socket))));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    listener.expiryTimer = setInterval(() => void registry.expire().catch((error: unknown) => onError(error, 'session expiry')), SESSION_EXPIRY_CHECK_MS);
    (listener.expiryTimer as { unref?: () => void }).unref?.();
    return listener;
  }

  /**
   * Serves an MQTT connection on another transport (the WebSocket endpoint `/mqtt` of the HTTP
   * port, broker/http/websocket-upgrade.ts): the same sessions, auth, limits and takeover as TCP.
   */
  accept(stream: MqttByteStream): void {
    this.acceptStream(stream);
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('invariant: the MQTT listener has no TCP address');
    return address.port;
  }

  /**
   * Re-reads the certificate, key and CA files (`rill start` calls this on SIGHUP). New connections
   * get them; open connections keep the session they negotiated. A file that cannot be read or
   * parsed throws and leaves the current certificate in place.
   */
  reloadTls(): void {
    if (this.tls === undefined) throw new Error('this MQTT listener does not serve TLS');
    (this.server as TlsServer).setSecureContext(tlsServerOptions(this.tls));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, tells MQTT 5 clients the server is shutting down, and waits for every connection to close. */
  async close(): Promise<void> {
    clearInterval(this.expiryTimer);
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.close()));
    await this.wills.close();
    await stopped;
  }
}

function retainedOf(packet: PublishPacket, topic: string) {
  const expiry = packet.properties.messageExpiryInterval;
  const { topicAlias: _alias, subscriptionIdentifiers: _ids, ...properties } = packet.properties;
  return {
    topic,
    payload: packet.payload,
    qos: packet.qos,
    properties,
    ...(expiry === undefined ? {} : { expiresAtMs: Date.now() + expiry * 1000 }),
  };
}
