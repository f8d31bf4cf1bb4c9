/**
 * Serves a fetch handler over HTTP on whichever runtime runs the process: `Bun.serve` on Bun,
 * `Deno.serve` on Deno, `@hono/node-server` on Node. The only runtime-specific file of the HTTP
 * API; the globals are typed locally so nothing else depends on a runtime's type package.
 */
import type { Server } from 'node:http';
import type { KafkaPrincipal } from '../security/kafka-principal.ts';
import {
  type BunSocketData,
  type BunWebSocketHandlers,
  bunUpgradeOptions,
  bunWebSocketHandlers,
  type DenoUpgradeWebSocket,
  denoUpgrade,
  endpointRefusal,
  isEndpointRequest,
  nodeUpgradeListener,
  type WebSocketEndpoint,
} from './websocket-upgrade.ts';

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
  requestIP(request: Request): { address: string; port?: number } | null;
  upgrade(request: Request, options: { headers: Record<string, string>; data: BunSocketData }): boolean;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

interface BunGlobal {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch(request: Request, server: BunServer): Response | undefined | Promise<Response>;
    websocket?: BunWebSocketHandlers;
  }): BunServer;
}

interface DenoGlobal {
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request, info: { remoteAddr: { hostname: string; port: number } }) => Response | Promise<Response>,
  ): { readonly addr: { port: number }; shutdown(): Promise<void> };
  upgradeWebSocket: DenoUpgradeWebSocket;
}


const runtime = globalThis as unknown as { Bun?: BunGlobal; Deno?: DenoGlobal };

/** `webSocket`: a WebSocket endpoint served on the same port (MQTT over WebSocket at `/mqtt`), refused with a 400 problem unless the request is a proper upgrade. */
export async function serveHttp(fetch: FetchHandler, options: { host: string; port: number; webSocket?: WebSocketEndpoint }): Promise<HttpServer> {
  const { host, webSocket } = options;
  if (runtime.Bun !== undefined) {
    // idleTimeout 0: live tails are idle between events for as long as the heartbeat interval.
    const server = runtime.Bun.serve({
      hostname: host,
      port: options.port,
      idleTimeout: 0,
      ...(webSocket === undefined ? {} : { websocket: bunWebSocketHandlers(webSocket) }),
      fetch: (request, bunServer) => {
        const refused = endpointRefusal(webSocket, request);
        if (refused !== undefined) return refused;
        const ip = bunServer.requestIP(request);
        if (webSocket !== undefined && isEndpointRequest(webSocket, request.url)) {
          // undefined: Bun answers the upgrade itself.
          if (bunServer.upgrade(request, bunUpgradeOptions(webSocket, `${ip?.address ?? '?'}:${ip?.port ?? '?'}`))) return undefined;
        }
        const address = ip?.address;
        return fetch(request, address === undefined ? {} : { remoteAddress: address });
      },
    });
    return { host, port: server.port, close: () => server.stop() };
  }
  if (runtime.Deno !== undefined) {
    const deno = runtime.Deno;
    const server = deno.serve({ hostname: host, port: options.port, onListen: () => undefined }, (request, info) => {
      const refused = endpointRefusal(webSocket, request);
      if (refused !== undefined) return refused;
      if (webSocket !== undefined && isEndpointRequest(webSocket, request.url)) {
        return denoUpgrade(webSocket, deno.upgradeWebSocket, request, `${info.remoteAddr.hostname}:${info.remoteAddr.port}`);
      }
      return fetch(request, { remoteAddress: info.remoteAddr.hostname });
    });
    return { host, port: server.addr.port, close: () => server.shutdown() };
  }
  const { serve } = await import('@hono/node-server');
  const upgradeListener = webSocket === undefined ? undefined : await nodeUpgradeListener(webSocket);
  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve(
      {
        fetch: (request, env) => {
          const refused = endpointRefusal(webSocket, request);
          if (refused !== undefined) return refused;
          const address = env.incoming.socket.remoteAddress;
          return fetch(request, address === undefined ? {} : { remoteAddress: address });
        },
        hostname: host,
        port: options.port,
      },
      () => resolve(created as Server),
    ) as Server;
    created.once('error', reject);
    if (upgradeListener !== undefined) created.on('upgrade', upgradeListener);
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
