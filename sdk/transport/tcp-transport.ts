import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ApiKey, type ApiVersionsResponse, isProtocolDecodeError, type MetadataResponse, type RequestBodies, type ResponseBodies } from '../protocol/mod.ts';
import { KafkaError } from '../protocol/kafka-error.ts';
import { type BackoffOptions, backoffMs, defaultBackoff, delay } from './backoff.ts';
import { CLIENT_API_VERSIONS } from './client-versions.ts';
import { reauthenticationDelayMs, type SaslCredentials, saslAuthenticate } from './sasl-client.ts';
import { TcpConnection } from './tcp-connection.ts';
import type { BrokerNode, SendOptions, Transport } from './transport.ts';
import { NegotiatedVersions } from './version-negotiation.ts';

export interface TcpTransportOptions {
  /** `host:port` entries; any one that answers is enough to discover the rest through Metadata. */
  bootstrapServers: readonly string[];
  clientId?: string;
  /** TLS via node:tls; `true` uses the system's trust store. */
  tls?: TlsOptions | true;
  /** SASL authentication on every connection (SASL_PLAINTEXT, or SASL_SSL with `tls`), re-authenticated before the broker's session lifetime ends. */
  sasl?: SaslCredentials;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxInFlightRequestsPerConnection?: number;
  maxQueuedRequestsPerConnection?: number;
  maxResponseBytes?: number;
  reconnectBackoff?: BackoffOptions;
}

interface Link {
  connection: TcpConnection;
  versions: NegotiatedVersions;
}

interface Peer {
  node: BrokerNode;
  link: Promise<Link> | undefined;
  failures: number;
}

/** Bound on lane connections (SendOptions.lane) open at once across brokers. */
const MAX_LANES = 1_024;

const CLIENT_SOFTWARE_VERSION = '0.1.0';

function parseServer(server: string): { host: string; port: number } {
  const colon = server.lastIndexOf(':');
  const port = Number(server.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new KafkaError('INVALID_CONFIG', `bootstrap server "${server}" is not host:port`);
  }
  return { host: server.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * The Kafka protocol over TCP: one connection per broker, opened on first use, negotiated with
 * ApiVersions, and reopened with exponential backoff after it drops. Broker addresses come from the
 * bootstrap list (negative placeholder ids) and then from every Metadata response that passes through.
 */
export class TcpTransport implements Transport {
  private readonly peers = new Map<number, Peer>();
  private readonly bootstrap: Peer[];
  private readonly abort = new AbortController();
  private readonly options: Required<Omit<TcpTransportOptions, 'tls' | 'sasl'>> & { tls: TlsOptions | undefined; sasl: SaslCredentials | undefined };
  private nextBootstrap = 0;
  /** Lane connections by `${lane}\n${nodeId}`; each is a Peer of its own so it reconnects alike. */
  private readonly lanes = new Map<string, Peer>();

  constructor(options: TcpTransportOptions) {
    if (options.bootstrapServers.length === 0) throw new KafkaError('INVALID_CONFIG', 'bootstrapServers is empty');
    this.options = {
      clientId: 'rill',
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxInFlightRequestsPerConnection: 64,
      maxQueuedRequestsPerConnection: 10_000,
      maxResponseBytes: 256 * 1024 * 1024,
      reconnectBackoff: defaultBackoff,
      ...options,
      tls: options.tls === true ? {} : options.tls,
      sasl: options.sasl,
    };
    this.bootstrap = options.bootstrapServers.map((server, i) => ({ node: { nodeId: -1 - i, ...parseServer(server) }, link: undefined, failures: 0 }));
  }

  brokers(): readonly BrokerNode[] {
    return this.peers.size > 0 ? [...this.peers.values()].map((p) => p.node) : this.bootstrap.map((p) => p.node);
  }

  async apiVersion(apiKey: ApiKey, nodeId?: number): Promise<number> {
    return (await this.link(nodeId)).versions.version(apiKey);
  }

  async supports(apiKey: ApiKey, nodeId?: number): Promise<boolean> {
    return (await this.link(nodeId)).versions.supports(apiKey);
  }

  async send<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options: SendOptions = {}): Promise<ResponseBodies[K]> {
    const { connection } = options.lane !== undefined && options.nodeId !== undefined ? await this.laneLink(options.lane, options.nodeId) : await this.link(options.nodeId);
    const response = (await connection.request(apiKey, version, body, options.timeoutMs ?? this.options.requestTimeoutMs, true))!;
    if (apiKey === ApiKey.Metadata) this.learnBrokers(response as MetadataResponse);
    return response;
  }

  async sendWithoutResponse<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options: SendOptions = {}): Promise<void> {
    const { connection } = await this.link(options.nodeId);
    await connection.request(apiKey, version, body, options.timeoutMs ?? this.options.requestTimeoutMs, false);
  }

  private async laneLink(lane: string, nodeId: number): Promise<Link> {
    const key = `${lane}\n${nodeId}`;
    let peer = this.lanes.get(key);
    if (peer === undefined) {
      if (this.lanes.size >= MAX_LANES) throw new KafkaError('INVALID_CONFIG', `more than ${MAX_LANES} lane connections; release lanes no longer used`);
      await this.link(nodeId);
      const node = (this.peers.get(nodeId) ?? this.bootstrap.find((p) => p.node.nodeId === nodeId))!.node;
      peer = { node, link: undefined, failures: 0 };
      this.lanes.set(key, peer);
    }
    return this.open(peer);
  }

  async releaseLane(lane: string): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, peer] of this.lanes) {
      if (!key.startsWith(`${lane}\n`)) continue;
      this.lanes.delete(key);
      if (peer.link !== undefined) closing.push(peer.link.then((l) => l.connection.close(), () => undefined));
    }
    await Promise.all(closing);
  }

  async close(): Promise<void> {
    this.abort.abort(new KafkaError('NETWORK_EXCEPTION', 'the transport is closed'));
    const links = [...this.peers.values(), ...this.bootstrap, ...this.lanes.values()].map((p) => p.link).filter((l) => l !== undefined);
    await Promise.all(links.map((l) => l.then((link) => link.connection.close(), () => undefined)));
  }

  private learnBrokers(metadata: MetadataResponse): void {
    const seen = new Set<number>();
    for (const b of metadata.brokers) {
      seen.add(b.nodeId);
      const known = this.peers.get(b.nodeId);
      if (known !== undefined && known.node.host === b.host && known.node.port === b.port) continue;
      void known?.link?.then((l) => l.connection.close(), () => undefined);
      this.peers.set(b.nodeId, { node: { nodeId: b.nodeId, host: b.host, port: b.port }, link: undefined, failures: 0 });
    }
    for (const [nodeId, peer] of this.peers) {
      if (seen.has(nodeId)) continue;
      void peer.link?.then((l) => l.connection.close(), () => undefined);
      this.peers.delete(nodeId);
    }
  }

  /** The connection to `nodeId` (or to any broker), opening it if needed. */
  private async link(nodeId: number | undefined): Promise<Link> {
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
    if (nodeId === undefined) return this.anyLink();
    let peer = this.peers.get(nodeId) ?? this.bootstrap.find((p) => p.node.nodeId === nodeId);
    if (peer === undefined) {
      await this.send(ApiKey.Metadata, await this.apiVersion(ApiKey.Metadata), {
        topics: [],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      peer = this.peers.get(nodeId);
      if (peer === undefined) throw new KafkaError('BROKER_NOT_AVAILABLE', `no broker with node id ${nodeId} in the cluster metadata`);
    }
    return this.open(peer);
  }

  private async anyLink(): Promise<Link> {
    const candidates = this.peers.size > 0 ? [...this.peers.values()] : this.bootstrap;
    const open = candidates.find((p) => p.link !== undefined && p.failures === 0);
    if (open !== undefined) {
      try {
        return await this.open(open);
      } catch {
        // Fall through to try the others in turn.
      }
    }
    let lastError: unknown;
    for (let i = 0; i < candidates.length; i++) {
      const peer = candidates[this.nextBootstrap++ % candidates.length]!;
      try {
        return await this.open(peer);
      } catch (error) {
        lastError = error;
      }
    }
    if (this.peers.size > 0) {
      // Every discovered broker failed; the bootstrap list may still point at a live one.
      for (const peer of this.bootstrap) {
        try {
          return await this.open(peer);
        } catch (error) {
          lastError = error;
        }
      }
    }
    throw lastError;
  }

  private open(peer: Peer): Promise<Link> {
    if (peer.link === undefined) {
      const attempt = this.connect(peer);
      peer.link = attempt;
      attempt.then(
        (link) => {
          peer.failures = 0;
          link.connection.onClose(() => {
            if (peer.link === attempt) peer.link = undefined;
          });
        },
        () => {
          peer.failures++;
          if (peer.link === attempt) peer.link = undefined;
        },
      );
    }
    return peer.link;
  }

  private async connect(peer: Peer): Promise<Link> {
    if (peer.failures > 0) await delay(backoffMs(peer.failures - 1, this.options.reconnectBackoff), this.abort.signal);
    const connection = await TcpConnection.connect({
      host: peer.node.host,
      port: peer.node.port,
      clientId: this.options.clientId,
      tls: this.options.tls,
      connectTimeoutMs: this.options.connectTimeoutMs,
      maxInFlightRequests: this.options.maxInFlightRequestsPerConnection,
      maxQueuedRequests: this.options.maxQueuedRequestsPerConnection,
      maxResponseBytes: this.options.maxResponseBytes,
    });
    try {
      const versions = await this.negotiate(connection);
      if (this.options.sasl !== undefined) {
        const lifetimeMs = await saslAuthenticate(connection, versions, this.options.sasl, this.options.requestTimeoutMs);
        this.scheduleReauthentication(connection, versions, this.options.sasl, lifetimeMs);
      }
      return { connection, versions };
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** KIP-368: re-authenticates before each session ends; a failed re-authentication closes the connection, which reconnects on next use. */
  private scheduleReauthentication(connection: TcpConnection, versions: NegotiatedVersions, sasl: SaslCredentials, lifetimeMs: number): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = (sessionMs: number): void => {
      if (sessionMs <= 0 || !connection.isOpen) return;
      timer = setTimeout(() => {
        saslAuthenticate(connection, versions, sasl, this.options.requestTimeoutMs).then(schedule, () => connection.close());
      }, reauthenticationDelayMs(sessionMs));
      (timer as { unref?: () => void }).unref?.();
    };
    connection.onClose(() => clearTimeout(timer));
    schedule(lifetimeMs);
  }

  /**
   * ApiVersions at our highest version first. A broker that does not know it answers error 35 in a
   * v0 body (KIP-511), which may not even decode as the version we asked for; v0 always works.
   */
  private async negotiate(connection: TcpConnection): Promise<NegotiatedVersions> {
    const timeoutMs = this.options.requestTimeoutMs;
    const ours = CLIENT_API_VERSIONS[ApiKey.ApiVersions]!.maxVersion;
    const body = { clientSoftwareName: 'rill', clientSoftwareVersion: CLIENT_SOFTWARE_VERSION };
    let response: ApiVersionsResponse | undefined;
    try {
      response = (await connection.request(ApiKey.ApiVersions, ours, body, timeoutMs, true))!;
    } catch (error) {
      if (!isProtocolDecodeError(error)) throw error;
    }
    if (response === undefined || response.errorCode === 35) {
      response = (await connection.request(ApiKey.ApiVersions, 0, { clientSoftwareName: '', clientSoftwareVersion: '' }, timeoutMs, true))!;
    }
    if (response.errorCode !== 0) {
      throw new KafkaError('UNSUPPORTED_VERSION', `${connection.address}: ApiVersions failed with error code ${response.errorCode}`);
    }
    return new NegotiatedVersions(response.apiKeys);
  }
}
