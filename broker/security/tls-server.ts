import { createServer, type Server, type TLSSocket, type TlsOptions } from 'node:tls';

const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The node:tls server of a TCP protocol listener (Kafka's, MQTT's). Its listener serves a
 * connection on 'secureConnection', once the handshake is done, so connections count against the
 * listener's own limit only then; sockets still handshaking are bounded by the server's
 * `maxConnections` and the handshake timeout. A client that fails the handshake (a plaintext
 * client, an untrusted certificate) is reported to `onClientError` and dropped.
 */
export function createTlsListenerServer(tls: TlsOptions, maxConnections: number, onClientError: (error: Error, remoteAddress: string) => void): Server {
  const server = Object.assign(createServer({ handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS, ...tls, noDelay: true }), { maxConnections });
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    onClientError(error, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    socket.destroy();
  });
  return server;
}
