import type { Socket } from 'node:net';
import { ANONYMOUS, type KafkaPrincipal } from '../security/kafka-principal.ts';
import { FrameSplitter } from './frame-splitter.ts';
import type { KafkaTraffic } from './kafka-traffic.ts';
import type { RequestMemoryPool } from './request-memory-pool.ts';

/**
 * Handles one request frame (without its size prefix) and returns the response frame as parts, or
 * `undefined` when the request gets no response (Produce with acks=0). Handlers are called
 * synchronously in arrival order, so side effects they perform before their first `await`
 * (appends, above all) keep the connection's request order; they may complete in any order.
 */
export type RequestHandler = (frame: Uint8Array, connection: ConnectionInfo) => Promise<readonly Uint8Array[] | undefined>;

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  /** Aborted when the connection closes, so parked requests (long-poll fetches) stop waiting. */
  readonly closed: AbortSignal;
  /**
   * Who the connection acts as: set by SASL authentication, else from the TLS client certificate,
   * else ANONYMOUS. Authorization decisions read it; only authentication writes it.
   */
  principal: KafkaPrincipal;
  /** Stops reading; answers the requests already read, then closes (after a failed authentication). */
  closeAfterResponses(): void;
}

export interface ConnectionLimits {
  maxRequestBytes: number;
  /** Requests read but not yet answered; past it the socket stops reading until responses drain. */
  maxInFlightRequests: number;
}

interface Slot {
  done: boolean;
  /** The response frame's parts (written with one writev), undefined for none. */
  response: readonly Uint8Array[] | undefined;
  requestBytes: number;
}

/**
 * One client connection: frames in, handler calls, responses out strictly in request order (the
 * Kafka protocol's guarantee, which clients rely on to match correlation ids).
 */
export class KafkaConnection implements ConnectionInfo {
  readonly remoteAddress: string;
  principal: KafkaPrincipal = ANONYMOUS;
  lastActivityMs: number;
  private readonly splitter: FrameSplitter;
  private readonly slots: Slot[] = [];
  private readonly abort = new AbortController();
  private pausedForInFlight = false;
  private pausedForDrain = false;
  private closing = false;
  /** Request bytes this connection has reported to the pool: partial frames plus frames in flight. */
  private accountedBytes = 0;
  private inFlightRequestBytes = 0;
  private readonly resumeFromPool = (): void => this.updateFlow();

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly limits: ConnectionLimits,
    private readonly nowMs: () => number,
    private readonly memory: RequestMemoryPool,
    private readonly traffic: KafkaTraffic,
    private readonly onError: (error: unknown, connection: KafkaConnection) => void,
  ) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.lastActivityMs = nowMs();
    this.splitter = new FrameSplitter(limits.maxRequestBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Uint8Array) => this.onData(chunk));
    socket.on('drain', () => {
      this.pausedForDrain = false;
      this.updateFlow();
    });
    socket.on('close', () => {
      this.abort.abort();
      this.memory.forget(this.resumeFromPool);
      this.memory.adjust(-this.accountedBytes);
      this.accountedBytes = 0;
    });
    socket.on('error', () => socket.destroy());
  }

  get closed(): AbortSignal {
    return this.abort.signal;
  }

  get inFlightRequests(): number {
    return this.slots.length;
  }

  private onData(chunk: Uint8Array): void {
    this.traffic.receivedBytes += chunk.byteLength;
    // A closing connection reads on only to see the peer's end of stream; what it sends is dropped.
    if (this.closing) return;
    this.lastActivityMs = this.nowMs();
    let frames: Uint8Array[];
    try {
      frames = this.splitter.push(chunk);
    } catch (error) {
      // A size prefix out of bounds leaves no way to find the next frame: the stream is lost.
      this.onError(error, this);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (this.socket.destroyed || this.closing) break;
      this.dispatch(frame);
    }
    this.account();
    this.updateFlow();
  }

  /** Reports to the pool what this connection holds now. */
  private account(): void {
    if (this.socket.destroyed) return;
    const held = this.splitter.bufferedBytes + this.inFlightRequestBytes;
    const delta = held - this.accountedBytes;
    this.accountedBytes = held;
    if (delta !== 0) this.memory.adjust(delta);
  }

  private dispatch(frame: Uint8Array): void {
    this.traffic.countRequest(frame);
    const slot: Slot = { done: false, response: undefined, requestBytes: frame.byteLength };
    this.slots.push(slot);
    this.inFlightRequestBytes += frame.byteLength;
    let pending: Promise<readonly Uint8Array[] | undefined>;
    try {
      pending = this.handler(frame, this);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (response) => {
        slot.done = true;
        slot.response = response;
        // The request frame (and anything the handler kept of it) is no longer needed.
        this.inFlightRequestBytes -= slot.requestBytes;
        this.account();
        this.flush();
      },
      (error: unknown) => {
        this.onError(error, this);
        this.socket.destroy();
      },
    );
  }

  private flush(): void {
    if (this.socket.destroyed) return;
    let wrote = false;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const { response } = this.slots.shift()!;
      if (response === undefined) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      let bytes = 0;
      for (const part of response) bytes += part.byteLength;
      const size = new Uint8Array(4);
      new DataView(size.buffer).setUint32(0, bytes);
      this.traffic.sentBytes += size.byteLength + bytes;
      this.socket.write(size);
      for (const part of response) if (!this.socket.write(part)) this.pausedForDrain = true;
    }
    if (wrote) this.socket.uncork();
    this.lastActivityMs = this.nowMs();
    if (this.closing) {
      if (this.slots.length === 0) this.socket.end();
      return;
    }
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.closing || this.socket.destroyed) return;
    this.pausedForInFlight = this.slots.length >= this.limits.maxInFlightRequests;
    const pausedForMemory = this.memory.isFull;
    if (pausedForMemory) this.memory.whenAvailable(this.resumeFromPool);
    if (this.pausedForInFlight || this.pausedForDrain || pausedForMemory) this.socket.pause();
    else this.socket.resume();
  }

  /**
   * Stops taking requests; closes once every request already read has been answered. The socket keeps
   * reading (and dropping) so the peer's FIN is seen: a paused socket never learns that the peer
   * closed its side, and on Deno the close then waits for the whole shutdown grace.
   */
  closeGracefully(): Promise<void> {
    this.closing = true;
    this.socket.resume();
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      if (this.slots.length === 0) this.socket.end();
    });
  }

  closeAfterResponses(): void {
    void this.closeGracefully();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
