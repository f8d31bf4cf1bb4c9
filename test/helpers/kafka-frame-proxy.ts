import { connect, createServer, type Server, type Socket } from 'node:net';
import { FrameSplitter } from '../../broker/kafka/frame-splitter.ts';

/** The header fields of the request a response answers. */
export interface ProxiedRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
}

/**
 * What the proxy does with a response frame (without its size prefix): forward the bytes returned
 * (the same frame or a rewritten one), or `'cut'` the client's connection instead of delivering it.
 */
export type ResponseHandler = (request: ProxiedRequest | undefined, response: Uint8Array) => Uint8Array | 'cut';

const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * A TCP proxy on 127.0.0.1 in front of a Kafka listener that splits both directions into frames,
 * passes requests through and hands every response to `onResponse`. The tests' way to make a real
 * client meet a broker that loses answers or advertises something else.
 */
export class KafkaFrameProxy {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /**
   * `targetPort` is read per connection, so the broker may start after the proxy (and advertise the
   * proxy's port). `onRequest` sees each request frame (without its size prefix) before it is passed on.
   */
  static start(targetPort: () => number, onResponse: ResponseHandler, onRequest?: (frame: Uint8Array) => void): Promise<KafkaFrameProxy> {
    let proxy: KafkaFrameProxy | undefined;
    const server = createServer((client) => {
      const upstream = connect({ port: targetPort(), host: '127.0.0.1' });
      const p = proxy!;
      p.sockets.add(client).add(upstream);
      // Bounded by the requests one client has in flight: each entry leaves with its response.
      const inFlight = new Map<number, ProxiedRequest>();
      const requests = new FrameSplitter(MAX_FRAME_BYTES);
      const responses = new FrameSplitter(MAX_FRAME_BYTES);
      client.on('data', (chunk: Uint8Array) => {
        for (const f of requests.push(chunk)) {
          const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
          const correlationId = dv.getInt32(4);
          inFlight.set(correlationId, { apiKey: dv.getInt16(0), apiVersion: dv.getInt16(2), correlationId });
          onRequest?.(f.slice());
          upstream.write(sized(f.slice()));
        }
      });
      upstream.on('data', (chunk: Uint8Array) => {
        for (const f of responses.push(chunk)) {
          const correlationId = new DataView(f.buffer, f.byteOffset, f.byteLength).getInt32(0);
          const request = inFlight.get(correlationId);
          inFlight.delete(correlationId);
          const out = onResponse(request, f.slice());
          if (out === 'cut') {
            client.destroy();
            upstream.destroy();
            return;
          }
          client.write(sized(out));
        }
      });
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        p.sockets.delete(client);
        p.sockets.delete(upstream);
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('invariant: a TCP server has a port');
        proxy = new KafkaFrameProxy(server, address.port);
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
