import { KafkaError } from '../protocol/kafka-error.ts';

/**
 * Splits the response byte stream into frames (4-byte big-endian size, then the frame). Chunks are
 * kept as received and joined only once a frame is complete, so memory follows the bytes that
 * arrived, never a declared size; a size above `maxFrameBytes` fails the stream.
 */
export class ResponseFrames {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Uint8Array[] = [];
    while (this.buffered >= 4) {
      const head = this.join(4, false);
      const size = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) | 0;
      if (size < 0 || size > this.maxFrameBytes) {
        throw new KafkaError('CORRUPT_MESSAGE', `response frame size ${size} is outside 0..${this.maxFrameBytes} bytes`);
      }
      if (this.buffered < 4 + size) break;
      frames.push(this.join(4 + size, true).subarray(4));
    }
    return frames;
  }

  /** The first `bytes` buffered bytes, as a view when one chunk holds them; `consume` drops them. */
  private join(bytes: number, consume: boolean): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= bytes) {
      if (consume) this.drop(bytes);
      return first.subarray(0, bytes);
    }
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(chunk.length, bytes - at);
      out.set(chunk.subarray(0, n), at);
      at += n;
      if (at === bytes) break;
    }
    if (consume) this.drop(bytes);
    return out;
  }

  private drop(bytes: number): void {
    this.buffered -= bytes;
    while (bytes > 0) {
      const first = this.chunks[0]!;
      if (first.length <= bytes) {
        this.chunks.shift();
        bytes -= first.length;
      } else {
        this.chunks[0] = first.subarray(bytes);
        bytes = 0;
      }
    }
  }
}
