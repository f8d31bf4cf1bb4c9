import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { type ApiKey, decodeResponse, encodeRequestParts, type RequestBodies, type ResponseBodies } from '../protocol/mod.ts';
import { KafkaError } from '../protocol/kafka-error.ts';
import { ResponseFrames } from './response-frames.ts';

export interface TcpConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  tls?: TlsOptions;
  connectTimeoutMs: number;
  /** Requests written and not yet answered; more wait for a slot (Kafka's max.in.flight per connection). */
  maxInFlightRequests: number;
  /** Requests waiting for an in-flight slot; past it `request` fails rather than queue without bound. */
  maxQueuedRequests: number;
  maxResponseBytes: number;
}

interface InFlight {
  apiKey: ApiKey;
  version: number;
  resolve: (frame: Uint8Array) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Queued {
  start: () => void;
  reject: (error: unknown) => void;
}

const INT32_MAX = 0x7fff_ffff;

/** SNI names a host, never an address (RFC 6066 §3; Bun and Deno refuse one, Node warns): the certificate is still checked against the IP. */
function serverName(options: TcpConnectionOptions): { servername?: string } {
  const name = options.tls?.servername ?? options.host;
  return isIP(name) === 0 ? { servername: name } : {};
}

/**
 * One TCP (or TLS) connection to one broker. Requests are pipelined: written in call order, each
 * tagged with a correlation id, and matched to responses by it. Kafka answers a connection's
 * requests in order, which keeps a producer's batches to a partition in order too.
 */
export class TcpConnection {
  private readonly inFlight = new Map<number, InFlight>();
  private readonly queue: Queued[] = [];
  private nextCorrelationId = 0;
  private slotsUsed = 0;
  private closedError: unknown;
  private readonly closeListeners: ((error: unknown) => void)[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly options: TcpConnectionOptions,
  ) {
    const frames = new ResponseFrames(options.maxResponseBytes);
    socket.on('data', (chunk: Uint8Array) => {
      try {
        for (const frame of frames.push(chunk)) this.onFrame(frame);
      } catch (error) {
        this.fail(error);
      }
    });
    socket.on('error', (error) => this.fail(new KafkaError('NETWORK_EXCEPTION', `${this.address}: ${error.message}`, { cause: error })));
    socket.on('close', () => this.fail(new KafkaError('NETWORK_EXCEPTION', `${this.address}: connection closed`)));
  }

  static connect(options: TcpConnectionOptions): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket =
        options.tls === undefined
          ? netConnect({ host: options.host, port: options.port, noDelay: true })
          : tlsConnect({ ...options.tls, host: options.host, port: options.port, ...serverName(options) });
      const ready = options.tls === undefined ? 'connect' : 'secureConnect';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new KafkaError('NETWORK_EXCEPTION', `${options.host}:${options.port}: connect timed out after ${options.connectTimeoutMs} ms`));
      }, options.connectTimeoutMs);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new KafkaError('NETWORK_EXCEPTION', `${options.host}:${options.port}: ${error.message}`, { cause: error }));
      };
      socket.once('error', onError);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new TcpConnection(socket, options));
      });
    });
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get isOpen(): boolean {
    return this.closedError === undefined;
  }

  onClose(listener: (error: unknown) => void): void {
    this.closeListeners.push(listener);
  }

  /** Sends one request; resolves with the decoded response, or `undefined` when `expectResponse` is false. */
  request<K extends ApiKey>(
    apiKey: K,
    version: number,
    body: RequestBodies[K],
    timeoutMs: number,
    expectResponse: boolean,
  ): Promise<ResponseBodies[K] | undefined> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    return new Promise<ResponseBodies[K] | undefined>((resolve, reject) => {
      const start = (): void => {
        if (this.closedError !== undefined) {
          reject(this.closedError);
          return;
        }
        const correlationId = this.nextCorrelationId;
        this.nextCorrelationId = correlationId === INT32_MAX ? 0 : correlationId + 1;
        let frame: Uint8Array[];
        try {
          frame = encodeRequestParts(apiKey, version, { correlationId, clientId: this.options.clientId }, body);
        } catch (error) {
          this.releaseSlot();
          reject(error);
          return;
        }
        if (expectResponse) {
          const timer = setTimeout(() => {
            if (this.inFlight.delete(correlationId)) {
              this.releaseSlot();
              reject(new KafkaError('REQUEST_TIMED_OUT', `${this.address}: no response to api key ${apiKey} within ${timeoutMs} ms`));
            }
          }, timeoutMs);
          this.inFlight.set(correlationId, {
            apiKey,
            version,
            timer,
            reject,
            resolve: (response) => {
              try {
                resolve(decodeResponse(apiKey, version, response).body);
              } catch (error) {
                reject(error);
              }
            },
          });
        }
        let frameBytes = 0;
        for (const part of frame) frameBytes += part.byteLength;
        const size = new Uint8Array(4);
        new DataView(size.buffer).setUint32(0, frameBytes);
        this.socket.cork();
        this.socket.write(size);
        for (const part of frame) this.socket.write(part);
        this.socket.uncork();
        if (!expectResponse) {
          this.releaseSlot();
          resolve(undefined);
        }
      };
      if (this.slotsUsed < this.options.maxInFlightRequests) {
        this.slotsUsed++;
        start();
      } else if (this.queue.length >= this.options.maxQueuedRequests) {
        reject(new KafkaError('NETWORK_EXCEPTION', `${this.address}: ${this.queue.length} requests already wait for an in-flight slot`));
      } else {
        this.queue.push({ start, reject });
      }
    });
  }

  private releaseSlot(): void {
    const next = this.queue.shift();
    if (next === undefined) this.slotsUsed--;
    else next.start();
  }

  private onFrame(frame: Uint8Array): void {
    if (frame.length < 4) throw new KafkaError('CORRUPT_MESSAGE', `${this.address}: response frame of ${frame.length} bytes has no header`);
    const correlationId = new DataView(frame.buffer, frame.byteOffset, 4).getInt32(0);
    const pending = this.inFlight.get(correlationId);
    // A response to a request that already timed out is dropped: its caller has moved on.
    if (pending === undefined) return;
    this.inFlight.delete(correlationId);
    clearTimeout(pending.timer);
    this.releaseSlot();
    pending.resolve(frame);
  }

  private fail(error: unknown): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    this.socket.destroy();
    for (const pending of this.inFlight.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.inFlight.clear();
    for (const queued of this.queue.splice(0)) queued.reject(error);
    for (const listener of this.closeListeners) listener(error);
  }

  close(): void {
    this.fail(new KafkaError('NETWORK_EXCEPTION', `${this.address}: connection closed by the client`));
  }
}
