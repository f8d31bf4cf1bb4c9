import { createServer, type Server, type Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket, TlsOptions } from 'node:tls';
import { certificatePrincipal } from '../security/tls-config.ts';
import { createTlsListenerServer } from '../security/tls-server.ts';
import { KafkaConnection, type ConnectionLimits, type RequestHandler } from './kafka-connection.ts';
import { RequestMemoryPool } from './request-memory-pool.ts';
import { KafkaTraffic } from './kafka-traffic.ts';

export interface KafkaServerOptions extends ConnectionLimits {
  host: string;
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  /** Kafka's `connections.max.idle.ms`: a connection with nothing in flight for this long is closed. */
  connectionsMaxIdleMs: number;
  maxConnections: number;
  /** How long `close()` lets connections answer what they have read before cutting them. */
  shutdownGraceMs: number;
  /** Request bytes held across all connections before they stop reading (Kafka's `queued.max.request.bytes`). */
  queuedMaxRequestBytes: number;
  handler: RequestHandler;
  /** Serve TLS with these options (see broker/security/tls-config.ts); plaintext without. */
  tls?: TlsOptions;
  onError?: (error: unknown, remoteAddress: string) => void;
}

export const defaultKafkaServerLimits = {
  maxRequestBytes: 100 * 1024 * 1024,
  queuedMaxRequestBytes: 200 * 1024 * 1024,
  maxInFlightRequests: 100,
  connectionsMaxIdleMs: 600_000,
  maxConnections: 10_000,
  shutdownGraceMs: 5_000,
} as const;

/** The `node:net` (or `node:tls`) listener for the Kafka protocol: accepts connections, reaps idle ones, shuts down cleanly. */
export class KafkaServer {
  private readonly connections = new Set<KafkaConnection>();
  private nextConnectionId = 1;
  private reaper: ReturnType<typeof setInterval> | undefined;
  private readonly memory: RequestMemoryPool;
  /** Bytes and requests over every connection since the server started. */
  readonly traffic = new KafkaTraffic();

  private constructor(
    private readonly server: Server,
    private readonly options: KafkaServerOptions,
  ) {
    // A frame larger than the pool could never be read whole, so the pool must hold the largest one.
    if (options.queuedMaxRequestBytes < options.maxRequestBytes) {
      throw new Error(
        `invariant: queuedMaxRequestBytes (${options.queuedMaxRequestBytes}) must be at least maxRequestBytes (${options.maxRequestBytes})`,
      );
    }
    this.memory = new RequestMemoryPool(options.queuedMaxRequestBytes);
  }

  /** Request bytes held in memory across every connection right now. */
  get requestMemoryBytes(): number {
    return this.memory.used;
  }

  static async listen(options: KafkaServerOptions): Promise<KafkaServer> {
    const server =
      options.tls === undefined
        ? createServer({ noDelay: true })
        : createTlsListenerServer(options.tls, options.maxConnections, (error, remoteAddress) => options.onError?.(error, remoteAddress));
    const kafka = new KafkaServer(server, options);
    server.on(options.tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => kafka.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    kafka.reaper = setInterval(() => kafka.reapIdle(), Math.max(10, Math.min(options.connectionsMaxIdleMs / 2, 30_000)));
    (kafka.reaper as { unref?: () => void }).unref?.();
    return kafka;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('invariant: the Kafka listener has no TCP address');
    return address.port;
  }

  /**
   * Swaps in new certificate, key and CA for connections accepted from now on; open connections
   * keep the session they negotiated.
   */
  reloadTls(options: TlsOptions): void {
    if (this.options.tls === undefined) throw new Error('invariant: reloadTls on a plaintext listener');
    (this.server as TlsServer).setSecureContext(options);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.options.maxConnections) {
      socket.destroy();
      return;
    }
    const connection = new KafkaConnection(
      this.nextConnectionId++,
      socket,
      this.options.handler,
      this.options,
      () => Date.now(),
      this.memory,
      this.traffic,
      (error, c) => this.options.onError?.(error, c.remoteAddress),
    );
    if (this.options.tls !== undefined) connection.principal = certificatePrincipal(socket as TLSSocket) ?? connection.principal;
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }

  private reapIdle(): void {
    const cutoff = Date.now() - this.options.connectionsMaxIdleMs;
    for (const connection of this.connections) {
      if (connection.inFlightRequests === 0 && connection.lastActivityMs < cutoff) connection.destroy();
    }
  }

  /** Stops accepting, lets open connections answer what they have read (up to the grace period), then closes them. */
  async close(): Promise<void> {
    clearInterval(this.reaper);
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const graceful = Promise.all([...this.connections].map((c) => c.closeGracefully()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.shutdownGraceMs);
    });
    await Promise.race([graceful, deadline]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.destroy();
    await stopped;
  }
}
