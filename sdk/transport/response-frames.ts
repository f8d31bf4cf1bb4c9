import { KafkaError } from '../protocol/kafka-error.ts';

/**
 * Splits the response byte stream into frames (4-byte big-endian size, then the frame). A frame
 * inside one chunk is returned as a view of it; a frame spanning chunks is copied, as its chunks
 * arrive, into one buffer of its announced size, so a large fetch response is copied once and
 * never re-joined. A size above `maxFrameBytes` fails the stream before anything is allocated.
 */
export class ResponseFrames {
  /** The size prefix when it arrived split across chunks. */
  private readonly head = new Uint8Array(4);
  private headBytes = 0;
  /** The frame being filled, and how much of it has arrived. */
  private frame: Uint8Array | undefined;
  private filled = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      let frame = this.frame;
      if (frame === undefined) {
        let size: number;
        if (this.headBytes === 0 && chunk.length - pos >= 4) {
          size = ((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) | 0;
          pos += 4;
        } else {
          while (this.headBytes < 4 && pos < chunk.length) this.head[this.headBytes++] = chunk[pos++]!;
          if (this.headBytes < 4) break;
          this.headBytes = 0;
          const h = this.head;
          size = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) | 0;
        }
        if (size < 0 || size > this.maxFrameBytes) {
          throw new KafkaError('CORRUPT_MESSAGE', `response frame size ${size} is outside 0..${this.maxFrameBytes} bytes`);
        }
        if (chunk.length - pos >= size) {
          frames.push(chunk.subarray(pos, pos + size));
          pos += size;
          continue;
        }
        frame = this.frame = new Uint8Array(size);
        this.filled = 0;
      }
      const n = Math.min(frame.length - this.filled, chunk.length - pos);
      frame.set(chunk.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === frame.length) {
        frames.push(frame);
        this.frame = undefined;
      }
    }
    return frames;
  }
}
