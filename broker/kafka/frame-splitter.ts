import { KafkaError } from '../../sdk/protocol/kafka-error.ts';

/**
 * Splits a TCP byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes.
 * A frame inside one chunk is returned as a view of it (zero copy); a frame spread over chunks is
 * collected chunk by chunk and joined once complete, so memory follows the bytes actually received,
 * never a declared size.
 */
export class FrameSplitter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and returns every frame it completes, in order. Throws on a frame size out of bounds. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    if (this.buffered === 0) {
      let at = 0;
      while (chunk.length - at >= 4) {
        const size = this.frameSize(chunk, at);
        if (chunk.length - at - 4 < size) break;
        frames.push(chunk.subarray(at + 4, at + 4 + size));
        at += 4 + size;
      }
      if (at < chunk.length) this.keep(chunk.subarray(at));
      return frames;
    }
    this.keep(chunk);
    for (;;) {
      if (this.buffered < 4) return frames;
      const head = this.peek(4);
      const size = this.frameSize(head, 0);
      if (this.buffered - 4 < size) return frames;
      const joined = this.take(4 + size);
      frames.push(joined.subarray(4));
    }
  }

  private frameSize(bytes: Uint8Array, at: number): number {
    const size = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) | 0;
    if (size < 0 || size > this.maxFrameBytes) {
      throw new KafkaError('INVALID_REQUEST', `frame size ${size} is outside 0..${this.maxFrameBytes} bytes`);
    }
    return size;
  }

  private keep(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  private peek(bytes: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= bytes) return first;
    const out = new Uint8Array(bytes);
    let filled = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(chunk.length, bytes - filled);
      out.set(chunk.subarray(0, n), filled);
      filled += n;
      if (filled === bytes) break;
    }
    return out;
  }

  private take(bytes: number): Uint8Array {
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (first.length >= bytes) {
      out = first.subarray(0, bytes);
    } else {
      out = new Uint8Array(bytes);
      let filled = 0;
      while (filled < bytes) {
        const chunk = this.chunks[0]!;
        const n = Math.min(chunk.length, bytes - filled);
        out.set(chunk.subarray(0, n), filled);
        filled += n;
        if (n === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(n);
      }
      this.buffered -= bytes;
      return out;
    }
    if (first.length === bytes) this.chunks.shift();
    else this.chunks[0] = first.subarray(bytes);
    this.buffered -= bytes;
    return out;
  }
}
