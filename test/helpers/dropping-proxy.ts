import { createServer, connect, type Server, type Socket } from 'node:net';
import { FrameSplitter } from '../../broker/kafka/frame-splitter.ts';

/** Decides, per response, whether the proxy cuts the connection instead of delivering it. */
export type DropPolicy = (apiKey: number, responseNumber: number) => boolean;

/**
 * A TCP proxy in front of a broker that can lose responses: when `policy` says so for a response,
 * it closes the client's connection instead of forwarding it. The broker has already acted on the
 * request, so the client retries something that happened, which is what idempotence is for.
 */
export class DroppingProxy {
  readonly dropped: number[] = [];
  private responses = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `targetPort` is read per connection, so the broker may start after the proxy (and advertise the proxy's port). */
  static start(targetPort: () => number, policy: DropPolicy): Promise<DroppingProxy> {
    let proxy: DroppingProxy | undefined;
    const server = createServer((client) => {
      const upstream = connect({ port: targetPort(), host: '127.0.0.1' });
      const p = proxy!;
      p.sockets.add(client).add(upstream);
      const apiKeys = new Map<number, number>();
      const requests = new FrameSplitter(256 * 1024 * 1024);
      const responses = new FrameSplitter(256 * 1024 * 1024);
      const frame = (body: Uint8Array): Uint8Array => {
        const out = new Uint8Array(4 + body.length);
        new DataView(out.buffer).setUint32(0, body.length);
        out.set(body, 4);
        return out;
      };
      client.on('data', (chunk: Uint8Array) => {
        for (const f of requests.push(chunk)) {
          const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
          apiKeys.set(dv.getInt32(4), dv.getInt16(0));
          upstream.write(frame(f.slice()));
        }
      });
      upstream.on('data', (chunk: Uint8Array) => {
        for (const f of responses.push(chunk)) {
          const correlationId = new DataView(f.buffer, f.byteOffset, f.byteLength).getInt32(0);
          const apiKey = apiKeys.get(correlationId) ?? -1;
          apiKeys.delete(correlationId);
          if (policy(apiKey, p.responses++)) {
            p.dropped.push(apiKey);
            client.destroy();
            upstream.destroy();
            return;
          }
          client.write(frame(f.slice()));
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
        proxy = new DroppingProxy(server, address.port);
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
