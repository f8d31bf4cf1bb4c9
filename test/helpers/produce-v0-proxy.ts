import { connect, createServer, type Server, type Socket } from 'node:net';
import { FrameSplitter } from '../../broker/kafka/frame-splitter.ts';
import { ApiKey, decodeResponse, encodeResponse } from '../../sdk/protocol/mod.ts';

/**
 * A TCP proxy in front of a broker that rewrites two things: ApiVersions answers say Produce goes
 * down to v0, and Metadata answers give the proxy's port as the broker's, so the client's
 * produce connection comes through the proxy too. Everything else passes through untouched.
 *
 * Why: librdkafka before 2.11.1 enables gzip, snappy and lz4 only if the broker's Produce range
 * includes v0 (a single-version check, confluentinc/librdkafka#5130). Rill, like Kafka 4.0
 * (KIP-896), starts Produce at v3, so Debian's librdkafka 2.0.2 would send those batches
 * uncompressed. Through this proxy it compresses them as it does against Kafka 3.x, still sending
 * Produce v7, so the broker receives librdkafka's real compressed bytes.
 */
export class ProduceV0Proxy {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static start(targetPort: number): Promise<ProduceV0Proxy> {
    let proxy: ProduceV0Proxy | undefined;
    const server = createServer((client) => {
      const upstream = connect({ port: targetPort, host: '127.0.0.1' });
      proxy!.sockets.add(client).add(upstream);
      const rewritten = new Map<number, { apiKey: number; version: number }>();
      const requests = new FrameSplitter(256 * 1024 * 1024);
      const responses = new FrameSplitter(256 * 1024 * 1024);
      client.on('data', (chunk: Uint8Array) => {
        for (const f of requests.push(chunk)) {
          const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
          const apiKey = dv.getInt16(0);
          if (apiKey === ApiKey.ApiVersions || apiKey === ApiKey.Metadata) rewritten.set(dv.getInt32(4), { apiKey, version: dv.getInt16(2) });
          upstream.write(sized(f.slice()));
        }
      });
      upstream.on('data', (chunk: Uint8Array) => {
        for (const f of responses.push(chunk)) {
          const correlationId = new DataView(f.buffer, f.byteOffset, f.byteLength).getInt32(0);
          const request = rewritten.get(correlationId);
          rewritten.delete(correlationId);
          if (request?.apiKey === ApiKey.ApiVersions) {
            const { body } = decodeResponse(ApiKey.ApiVersions, request.version, f);
            const apiKeys = body.apiKeys.map((k) => (k.apiKey === ApiKey.Produce ? { ...k, minVersion: 0 } : k));
            client.write(sized(encodeResponse(ApiKey.ApiVersions, request.version, correlationId, { ...body, apiKeys })));
          } else if (request?.apiKey === ApiKey.Metadata) {
            const { body } = decodeResponse(ApiKey.Metadata, request.version, f);
            const brokers = body.brokers.map((b) => ({ ...b, port: proxy!.port }));
            client.write(sized(encodeResponse(ApiKey.Metadata, request.version, correlationId, { ...body, brokers })));
          } else {
            client.write(sized(f.slice()));
          }
        }
      });
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        proxy!.sockets.delete(client);
        proxy!.sockets.delete(upstream);
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('invariant: a TCP server has a port');
        proxy = new ProduceV0Proxy(server, address.port);
        resolve(proxy);
      });
    });
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function sized(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}
