/**
 * Serves a fetch handler over HTTP on whichever runtime runs the process: `Bun.serve` on Bun,
 * `Deno.serve` on Deno, `@hono/node-server` on Node. The only runtime-specific file of the HTTP
 * API; the globals are typed locally so nothing else depends on a runtime's type package.
 */
import type { Server } from 'node:http';
import type { KafkaPrincipal } from '../security/kafka-principal.ts';

/** `certificatePrincipal`: the verified client certificate's principal, over HTTPS with client certificates (serve-tls.ts). */
export type FetchHandler = (request: Request, env: { remoteAddress?: string; certificatePrincipal?: KafkaPrincipal }) => Response | Promise<Response>;

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting connections and resolves once in-flight requests are answered. */
  close(): Promise<void>;
}

interface BunServer {
  readonly port: number;
  requestIP(request: Request): { address: string } | null;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

interface BunGlobal {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}

interface DenoGlobal {
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { readonly addr: { port: number }; shutdown(): Promise<void> };
}

const runtime = globalThis as unknown as { Bun?: BunGlobal; Deno?: DenoGlobal };

export async function serveHttp(fetch: FetchHandler, options: { host: string; port: number }): Promise<HttpServer> {
  const { host } = options;
  if (runtime.Bun !== undefined) {
    // idleTimeout 0: live tails are idle between events for as long as the heartbeat interval.
    const server = runtime.Bun.serve({
      hostname: host,
      port: options.port,
      idleTimeout: 0,
      fetch: (request, bunServer) => {
        const address = bunServer.requestIP(request)?.address;
        return fetch(request, address === undefined ? {} : { remoteAddress: address });
      },
    });
    return { host, port: server.port, close: () => server.stop() };
  }
  if (runtime.Deno !== undefined) {
    const server = runtime.Deno.serve({ hostname: host, port: options.port, onListen: () => undefined }, (request, info) =>
      fetch(request, { remoteAddress: info.remoteAddr.hostname }),
    );
    return { host, port: server.addr.port, close: () => server.shutdown() };
  }
  const { serve } = await import('@hono/node-server');
  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve(
      {
        fetch: (request, env) => {
          const address = env.incoming.socket.remoteAddress;
          return fetch(request, address === undefined ? {} : { remoteAddress: address });
        },
        hostname: host,
        port: options.port,
      },
      () => resolve(created as Server),
    ) as Server;
    created.once('error', reject);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('invariant: a TCP server has an address');
  return {
    host,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeIdleConnections();
      }),
  };
}
