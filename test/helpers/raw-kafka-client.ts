import { connect, type Socket } from 'node:net';
import {
  type ApiKey,
  decodeResponse,
  encodeRequest,
  type RequestBodies,
  type ResponseBodies,
} from '../../sdk/protocol/mod.ts';
import { FrameSplitter } from '../../broker/kafka/frame-splitter.ts';

/**
 * A minimal Kafka client for tests: sends requests encoded with our codecs (or raw bytes) over a
 * real socket and decodes responses in order. It exists to reach paths real clients never take:
 * corrupt batches, bad frames, unadvertised versions.
 */
export class RawKafkaClient {
  private readonly splitter = new FrameSplitter(256 * 1024 * 1024);
  private readonly waiting: { resolve: (frame: Uint8Array) => void; reject: (error: Error) => void }[] = [];
  private correlationId = 1;
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
  ) {
    socket.on('data', (chunk: Uint8Array) => {
      for (const frame of this.splitter.push(chunk)) this.waiting.shift()?.resolve(frame.slice());
    });
    const fail = (error: Error): void => {
      this.closedError = error;
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the broker')));
  }

  static connect(port: number, host = '127.0.0.1', clientId = 'raw-test-client'): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawKafkaClient(socket, clientId));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** Resolves once the broker closes the connection. */
  closed(): Promise<void> {
    if (this.socket.destroyed || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Sends a size-prefixed frame and waits for the next response frame. */
  sendFrame(frame: Uint8Array): Promise<Uint8Array> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const response = new Promise<Uint8Array>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.writeFrame(frame);
    return response;
  }

  /** Writes a size-prefixed frame without waiting for any response (acks=0, or frames the broker must drop). */
  writeFrame(frame: Uint8Array): void {
    const size = new Uint8Array(4);
    new DataView(size.buffer).setUint32(0, frame.byteLength);
    this.socket.write(size);
    this.socket.write(frame);
  }

  /** Writes bytes exactly as given, size prefix included or not. */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async request<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K]): Promise<ResponseBodies[K]> {
    const correlationId = this.correlationId++;
    const frame = encodeRequest(apiKey, version, { correlationId, clientId: this.clientId }, body);
    const response = decodeResponse(apiKey, version, await this.sendFrame(frame));
    if (response.correlationId !== correlationId) {
      throw new Error(`correlation id ${response.correlationId} answered request ${correlationId}`);
    }
    return response.body;
  }

  close(): void {
    this.socket.destroy();
  }
}
