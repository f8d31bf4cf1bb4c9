import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { certificatePrincipal, type TlsListenerOptions, tlsServerOptions } from '../security/tls-config.ts';
import type { FetchHandler, HttpServer } from './serve.ts';
import { endpointRefusal, nodeUpgradeListener, type WebSocketEndpoint } from './websocket-upgrade.ts';

const isBun = (globalThis as { Bun?: unknown }).Bun !== undefined;

export interface HttpsServer extends HttpServer {
  /**
   * Re-reads the certificate, key and CA files (`rill start` calls this on SIGHUP). New connections
   * get them; open connections keep the session they negotiated. A file that cannot be read or
   * parsed throws and leaves the current certificate in place.
   */
  reloadTls(): void;
}

/**
 * Serves a fetch handler over HTTPS with the Kafka listener's TLS code (tls-config.ts), through
 * node:tls on every runtime: `Bun.serve` neither reloads its certificate nor shows a request's client
 * certificate, and `Deno.serve` cannot verify client certificates. Node and Deno serve with
 * `https.createServer`. Bun's https server has no `setSecureContext`, so there a node:tls server
 * terminates TLS and hands each connection to a node:http server that never listens itself (Deno's
 * node:http drops keep-alive connections handed over that way, hence two constructions). A request's
 * env carries the verified client certificate's principal (`User:<subject DN>`, as on the Kafka
 * listener), undefined without one.
 */
/** `webSocket`: as for serveHttp (wss://), through the `ws` package on every runtime here, since TLS is node:tls everywhere. */
export async function serveHttps(fetch: FetchHandler, options: { host: string; port: number; tls: TlsListenerOptions; webSocket?: WebSocketEndpoint }): Promise<HttpsServer> {
  const { host, tls } = options;
  const upgradeListener = options.webSocket === undefined ? undefined : await nodeUpgradeListener(options.webSocket);
  const listener = getRequestListener((request, env) => {
    const refused = endpointRefusal(options.webSocket, request);
    if (refused !== undefined) return refused;
    const socket = (env as HttpBindings).incoming.socket as TLSSocket;
    const principal = certificatePrincipal(socket);
    const remoteAddress = socket.remoteAddress;
    return fetch(request, { ...(remoteAddress === undefined ? {} : { remoteAddress }), ...(principal === undefined ? {} : { certificatePrincipal: principal }) });
  });
  // Requests in flight per connection, so closing ends each connection once its last response is out.
  const inFlight = new Map<Socket, number>();
  let closing = false;
  const track = (socket: Socket): void => {
    if (inFlight.has(socket)) return;
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  };
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const socket = request.socket;
    track(socket);
    inFlight.set(socket, inFlight.get(socket)! + 1);
    response.once('close', () => {
      const count = inFlight.get(socket);
      if (count === undefined) return;
      inFlight.set(socket, count - 1);
      if (closing && count === 1) socket.end();
    });
    if (closing) response.shouldKeepAlive = false;
    void listener(request, response);
  };
  let server: TlsServer;
  if (isBun) {
    const http = createHttpServer(handle);
    if (upgradeListener !== undefined) http.on('upgrade', upgradeListener);
    server = createTlsServer(tlsServerOptions(tls), (socket) => {
      track(socket);
      http.emit('connection', socket);
    });
  } else {
    server = createHttpsServer(tlsServerOptions(tls), handle);
    if (upgradeListener !== undefined) server.on('upgrade', upgradeListener);
    server.on('secureConnection', track);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('invariant: a TCP server has an address');
  return {
    host,
    port: address.port,
    reloadTls: () => server.setSecureContext(tlsServerOptions(tls)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        for (const [socket, count] of inFlight) if (count === 0) socket.end();
      }),
  };
}
