import type { Socket } from 'node:net';
import type { KafkaPrincipal } from '../security/kafka-principal.ts';

/**
 * The byte stream an MQTT connection runs on: a TCP socket, or the binary frames of a WebSocket
 * (MQTT §6: the frames' payloads concatenated are the packet stream; a packet may span frames and
 * a frame may hold several packets). Listeners may be added more than once; `close` fires once.
 */
export interface MqttByteStream {
  /** `host:port` of the peer, for logs. */
  readonly remoteAddress: string;
  /** The principal of the peer's verified TLS client certificate (mqtts with client certificates); undefined without one. */
  readonly certificatePrincipal?: KafkaPrincipal;
  /** False once the stream is ending or closed. */
  readonly writable: boolean;
  /** Queues bytes; false once the stream's buffer is past its bound (wait for `onceDrain`). */
  write(bytes: Uint8Array): boolean;
  onData(listener: (chunk: Uint8Array) => void): void;
  onceClose(listener: () => void): void;
  onceDrain(listener: () => void): void;
  /** Stops reading (where the transport can: WebSockets on Bun and Deno cannot, and the connection bounds what it holds). */
  pause(): void;
  resume(): void;
  /** Closes once what was written is sent. */
  end(): void;
  destroy(): void;
}

export function tcpByteStream(socket: Socket, certificatePrincipal?: KafkaPrincipal): MqttByteStream {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  return {
    remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
    ...(certificatePrincipal === undefined ? {} : { certificatePrincipal }),
    get writable() {
      return !socket.destroyed && !socket.writableEnded;
    },
    write: (bytes) => socket.write(bytes),
    onData: (listener) => socket.on('data', listener),
    onceClose: (listener) => socket.once('close', () => listener()),
    onceDrain: (listener) => socket.once('drain', listener),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}
