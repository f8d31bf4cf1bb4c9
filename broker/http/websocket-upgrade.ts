/**
 * WebSocket endpoints on the HTTP port, with each runtime's own upgrade: `Bun.serve`'s `upgrade`
 * and `websocket` handlers on Bun, `Deno.upgradeWebSocket` on Deno, and the `ws` package on the
 * node:http server's `upgrade` event on Node (Node has no WebSocket server of its own). Each accepted
 * connection is handed over as a byte stream of its binary frames' payloads; a text frame closes
 * the connection with 1003 (MQTT §6 allows binary frames only). The upgrade is refused with a
 * problem+json 400 when the request is not a WebSocket upgrade or does not offer the subprotocol.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { WebSocket as NodeWebSocket } from 'ws';
import type { MqttByteStream } from '../mqtt/mqtt-byte-stream.ts';
import type { KafkaPrincipal } from '../security/kafka-principal.ts';
import { certificatePrincipal } from '../security/tls-config.ts';
import { HttpProblem, problemResponse } from './problem.ts';

export interface WebSocketEndpoint {
  /** The request path served, e.g. `/mqtt`. */
  path: string;
  /** The subprotocol a client must offer; the handshake answer names it (MQTT §6: `mqtt`). */
  subprotocol: string;
  /** Called with each accepted connection, once it is open. */
  accept(stream: MqttByteStream): void;
}

/** The largest WebSocket message accepted (the MQTT packet size limit applies to the packets inside). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Bytes queued for sending past which `write` answers false, and below which `drain` fires. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
/** Deno's WebSocket has no drain event: its `bufferedAmount` is checked at this interval while above the low water. */
const DENO_DRAIN_POLL_MS = 5;
const UNSUPPORTED_DATA = 1003;
const TEXT_FRAME_REFUSAL = 'MQTT over WebSocket takes binary frames only';

export function isEndpointRequest(endpoint: WebSocketEndpoint, url: string): boolean {
  const pathname = url.startsWith('/') ? url.split('?')[0]! : new URL(url).pathname;
  return pathname === endpoint.path;
}

/** Why a request to the endpoint cannot be upgraded, or undefined when it can. */
export function upgradeRefusal(endpoint: WebSocketEndpoint, upgrade: string | null | undefined, protocols: string | null | undefined): HttpProblem | undefined {
  if (upgrade?.toLowerCase() !== 'websocket') {
    return new HttpProblem('badRequest', `${endpoint.path} serves WebSocket connections only: send a WebSocket upgrade (Upgrade: websocket) with Sec-WebSocket-Protocol: ${endpoint.subprotocol}`);
  }
  const offered = (protocols ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (!offered.includes(endpoint.subprotocol)) {
    const what = offered.length === 0 ? 'none' : offered.join(', ');
    return new HttpProblem('badRequest', `${endpoint.path} needs the WebSocket subprotocol "${endpoint.subprotocol}" (Sec-WebSocket-Protocol: ${endpoint.subprotocol}); offered: ${what}`);
  }
  return undefined;
}

/** The refusal of a request to the endpoint that is not a proper upgrade, or undefined for any other request (served as usual). */
export function endpointRefusal(endpoint: WebSocketEndpoint | undefined, request: Request): Response | undefined {
  if (endpoint === undefined || !isEndpointRequest(endpoint, request.url)) return undefined;
  const refusal = upgradeRefusal(endpoint, request.headers.get('upgrade'), request.headers.get('sec-websocket-protocol'));
  return refusal === undefined ? undefined : problemResponse(refusal);
}

/** Byte-stream listeners shared by the runtime adapters. */
class StreamEvents {
  readonly data: ((chunk: Uint8Array) => void)[] = [];
  private close: (() => void)[] | undefined = [];
  private drain: (() => void)[] = [];
  refused = false;

  emitData(chunk: Uint8Array): void {
    if (this.refused) return;
    for (const listener of this.data) listener(chunk);
  }

  onceClose(listener: () => void): void {
    if (this.close === undefined) queueMicrotask(listener);
    else this.close.push(listener);
  }

  emitClose(): void {
    const listeners = this.close;
    this.close = undefined;
    for (const listener of listeners ?? []) listener();
    this.emitDrain();
  }

  onceDrain(listener: () => void): void {
    this.drain.push(listener);
  }

  emitDrain(): void {
    for (const listener of this.drain.splice(0)) listener();
  }
}

export type NodeUpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The node:http `upgrade` listener serving the endpoint (Node only; loads `ws` on first use). */
export async function nodeUpgradeListener(endpoint: WebSocketEndpoint): Promise<NodeUpgradeListener> {
  const { WebSocketServer } = await import('ws');
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has(endpoint.subprotocol) ? endpoint.subprotocol : false),
  });
  return (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    const refusal = isEndpointRequest(endpoint, request.url ?? '/')
      ? upgradeRefusal(endpoint, request.headers.upgrade, request.headers['sec-websocket-protocol'])
      : new HttpProblem('notFound', `no WebSocket endpoint at ${request.url ?? '/'}; MQTT over WebSocket is served at ${endpoint.path}`);
    if (refusal !== undefined) {
      void writeRawResponse(socket, problemResponse(refusal));
      return;
    }
    const remoteAddress = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    // Over wss:// (serve-tls.ts) the request's socket is the TLS one: a verified client certificate
    // logs the MQTT client in as on mqtts.
    const principal = isTlsSocket(request.socket) ? certificatePrincipal(request.socket) : undefined;
    server.handleUpgrade(request, socket, head, (ws) => endpoint.accept(nodeWebSocketStream(ws, remoteAddress, principal)));
  };
}

async function writeRawResponse(socket: Duplex, response: Response): Promise<void> {
  const body = await response.text();
  const head = [`HTTP/1.1 ${response.status} ${response.status === 404 ? 'Not Found' : 'Bad Request'}`];
  response.headers.forEach((value, name) => head.push(`${name}: ${value}`));
  head.push(`content-length: ${Buffer.byteLength(body)}`, 'connection: close');
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function isTlsSocket(socket: IncomingMessage['socket']): socket is TLSSocket {
  return typeof (socket as Partial<TLSSocket>).getPeerCertificate === 'function';
}

function nodeWebSocketStream(ws: NodeWebSocket, remoteAddress: string, principal: KafkaPrincipal | undefined): MqttByteStream {
  const events = new StreamEvents();
  let queuedBytes = 0;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      events.refused = true;
      ws.close(UNSUPPORTED_DATA, TEXT_FRAME_REFUSAL);
      return;
    }
    events.emitData(data as Buffer);
  });
  ws.on('error', () => ws.terminate());
  ws.once('close', () => events.emitClose());
  return {
    remoteAddress,
    ...(principal === undefined ? {} : { certificatePrincipal: principal }),
    get writable() {
      return ws.readyState === ws.OPEN;
    },
    write(bytes) {
      queuedBytes += bytes.byteLength;
      // The callback runs once the frame is handed to the socket (or the send failed).
      ws.send(bytes, { binary: true }, () => {
        queuedBytes -= bytes.byteLength;
        if (queuedBytes <= LOW_WATER_BYTES) events.emitDrain();
      });
      return queuedBytes < HIGH_WATER_BYTES;
    },
    onData: (listener) => events.data.push(listener),
    onceClose: (listener) => events.onceClose(listener),
    onceDrain: (listener) => events.onceDrain(listener),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    end: () => ws.close(1000),
    destroy: () => ws.terminate(),
  };
}

/** The parts of Bun's ServerWebSocket used here. */
export interface BunServerWebSocket {
  readonly data: BunSocketData;
  readonly readyState: number;
  send(data: Uint8Array): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface BunSocketData {
  remoteAddress: string;
  events?: StreamEvents;
}

export interface BunWebSocketHandlers {
  maxPayloadLength: number;
  open(ws: BunServerWebSocket): void;
  message(ws: BunServerWebSocket, message: string | Uint8Array): void;
  close(ws: BunServerWebSocket): void;
  drain(ws: BunServerWebSocket): void;
}

/** `Bun.serve`'s `websocket` option for the endpoint; `server.upgrade` is called in `fetch` with `bunUpgradeOptions`. */
export function bunWebSocketHandlers(endpoint: WebSocketEndpoint): BunWebSocketHandlers {
  return {
    maxPayloadLength: MAX_MESSAGE_BYTES,
    open(ws) {
      const events = new StreamEvents();
      ws.data.events = events;
      endpoint.accept({
        remoteAddress: ws.data.remoteAddress,
        get writable() {
          return ws.readyState === 1;
        },
        // -1: queued past Bun's backpressure limit (drain follows); 0: dropped, the socket is closed.
        write: (bytes) => ws.send(bytes) > 0,
        onData: (listener) => events.data.push(listener),
        onceClose: (listener) => events.onceClose(listener),
        onceDrain: (listener) => events.onceDrain(listener),
        pause: () => undefined,
        resume: () => undefined,
        end: () => ws.close(1000),
        destroy: () => ws.terminate(),
      });
    },
    message(ws, message) {
      const events = ws.data.events!;
      if (typeof message === 'string') {
        events.refused = true;
        ws.close(UNSUPPORTED_DATA, TEXT_FRAME_REFUSAL);
        return;
      }
      events.emitData(message);
    },
    close: (ws) => ws.data.events?.emitClose(),
    drain: (ws) => ws.data.events?.emitDrain(),
  };
}

export function bunUpgradeOptions(endpoint: WebSocketEndpoint, remoteAddress: string): { headers: Record<string, string>; data: BunSocketData } {
  return { headers: { 'sec-websocket-protocol': endpoint.subprotocol }, data: { remoteAddress } };
}

export type DenoUpgradeWebSocket = (request: Request, options: { protocol: string }) => { socket: WebSocket; response: Response };

/** Upgrades a request to the endpoint with `Deno.upgradeWebSocket`; the stream is accepted once the socket opens. */
export function denoUpgrade(endpoint: WebSocketEndpoint, upgradeWebSocket: DenoUpgradeWebSocket, request: Request, remoteAddress: string): Response {
  const { socket, response } = upgradeWebSocket(request, { protocol: endpoint.subprotocol });
  socket.binaryType = 'arraybuffer';
  const events = new StreamEvents();
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  const checkDrain = (): void => {
    drainTimer = undefined;
    if (socket.readyState !== WebSocket.OPEN || socket.bufferedAmount <= LOW_WATER_BYTES) events.emitDrain();
    else drainTimer = setTimeout(checkDrain, DENO_DRAIN_POLL_MS);
  };
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data === 'string') {
      events.refused = true;
      socket.close(UNSUPPORTED_DATA, TEXT_FRAME_REFUSAL);
      return;
    }
    events.emitData(new Uint8Array(event.data as ArrayBuffer));
  };
  socket.onclose = () => {
    clearTimeout(drainTimer);
    events.emitClose();
  };
  socket.onopen = () =>
    endpoint.accept({
      remoteAddress,
      get writable() {
        return socket.readyState === WebSocket.OPEN;
      },
      write(bytes) {
        socket.send(bytes);
        return socket.bufferedAmount < HIGH_WATER_BYTES;
      },
      onData: (listener) => events.data.push(listener),
      onceClose: (listener) => events.onceClose(listener),
      onceDrain(listener) {
        events.onceDrain(listener);
        if (drainTimer === undefined) checkDrain();
      },
      pause: () => undefined,
      resume: () => undefined,
      end: () => socket.close(1000),
      destroy: () => socket.close(1000),
    });
  return response;
}
