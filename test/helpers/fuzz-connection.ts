import { connect, type Socket } from 'node:net';
import { FrameSplitter } from '../../broker/kafka/frame-splitter.ts';
import { ApiKey, encodeRequest } from '../../sdk/protocol/mod.ts';
import { sizePrefixed } from './fuzz-mutators.ts';

export type SendOutcome = 'answered' | 'closed';

/**
 * A raw connection for fuzzing that knows, without timers, when the broker is done with a frame:
 * either a sentinel ApiVersions request written right behind it is answered (responses come in
 * request order, so the frame before it was fully handled), or the broker closes the connection.
 */
export class FuzzConnection {
  private readonly splitter = new FrameSplitter(512 * 1024 * 1024);
  private readonly isClosed: Promise<void>;
  private closedNow = false;
  private awaitedCorrelationId: number | undefined;
  private onSentinel: (() => void) | undefined;
  private nextSentinelId = 0x5e000000;
  /** Response frames received before the last sentinel's answer, sentinels excluded. */
  responses = 0;

  private constructor(private readonly socket: Socket) {
    this.isClosed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedNow = true;
        resolve();
      }),
    );
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Uint8Array) => {
      let frames: Uint8Array[];
      try {
        frames = this.splitter.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        const correlationId = frame.length >= 4 ? new DataView(frame.buffer, frame.byteOffset).getInt32(0) : undefined;
        if (correlationId !== undefined && correlationId === this.awaitedCorrelationId) {
          this.awaitedCorrelationId = undefined;
          this.onSentinel?.();
        } else {
          this.responses++;
        }
      }
    });
  }

  static open(port: number): Promise<FuzzConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new FuzzConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedNow;
  }

  /**
   * Writes `bytes` (whole size-prefixed frames) in chunks of at most `chunkBytes`, then a sentinel,
   * and resolves once the sentinel is answered or the broker closes the connection.
   */
  async sendWithSentinel(bytes: Uint8Array, avoidCorrelationIds: readonly number[], chunkBytes = bytes.length): Promise<SendOutcome> {
    if (this.closedNow) return 'closed';
    let id = this.nextSentinelId++;
    while (avoidCorrelationIds.includes(id)) id = this.nextSentinelId++;
    const sentinel = sizePrefixed(encodeRequest(ApiKey.ApiVersions, 0, { correlationId: id, clientId: null }, { clientSoftwareName: '', clientSoftwareVersion: '' }));
    const answered = new Promise<SendOutcome>((resolve) => {
      this.awaitedCorrelationId = id;
      this.onSentinel = () => resolve('answered');
    });
    for (let at = 0; at < bytes.length; at += Math.max(1, chunkBytes)) this.socket.write(bytes.subarray(at, at + Math.max(1, chunkBytes)));
    this.socket.write(sentinel);
    return Promise.race([answered, this.isClosed.then((): SendOutcome => 'closed')]);
  }

  /** Writes `bytes`, half-closes, and resolves once the connection is fully closed. */
  async sendAndClose(bytes: Uint8Array): Promise<void> {
    if (!this.closedNow) this.socket.end(bytes);
    await this.isClosed;
  }

  destroy(): void {
    this.closedNow = true;
    this.socket.destroy();
  }
}
