import { KafkaError } from '../../sdk/protocol/kafka-error.ts';

/** Frames at least this large are copied into their own buffer as they arrive (see `FrameSplitter`). */
const DEFAULT_ASSEMBLE_FROM_BYTES = 1024 * 1024;

/** A large frame being copied into its buffer: the size prefix and `filled` bytes of it are in. */
interface Assembly {
  frame: Uint8Array;
  filled: number;
}

/**
 * Splits a TCP byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes.
 * A frame inside one chunk is returned as a view of it (zero copy); a frame spread over chunks is
 * collected chunk by chunk and joined once complete, so memory follows the bytes actually received,
 * never a declared size. A large frame (`assembleFromBytes` on) is not joined at the end, which held
 * its chunks and the joined copy at once (twice the frame: 200 MiB for a 100 MiB request): once half
 * of it has arrived, its buffer is allocated (at most twice what was received, still never a
 * declared size alone), the chunks so far are copied in and dropped, and the rest is copied in as it
 * comes: at most one and a half times the frame.
 */
export class FrameSplitter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private assembly: Assembly | undefined;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly assembleFromBytes = DEFAULT_ASSEMBLE_FROM_BYTES,
  ) {}

  /** Bytes held for frames not yet complete. */
  get bufferedBytes(): number {
    return this.buffered + (this.assembly?.frame.length ?? 0);
  }

  /** Adds a chunk and returns every frame it completes, in order. Throws on a frame size out of bounds. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const assembly = this.assembly;
    if (assembly !== undefined) {
      const n = Math.min(chunk.length, assembly.frame.length - assembly.filled);
      assembly.frame.set(chunk.subarray(0, n), assembly.filled);
      assembly.filled += n;
      if (assembly.filled < assembly.frame.length) return frames;
      this.assembly = undefined;
      frames.push(assembly.frame.subarray(4));
      if (n === chunk.length) return frames;
      chunk = chunk.subarray(n);
    }
    if (this.buffered === 0) {
      let at = 0;
      let incompleteSize: number | undefined;
      while (chunk.length - at >= 4) {
        const size = this.frameSize(chunk, at);
        if (chunk.length - at - 4 < size) {
          incompleteSize = size;
          break;
        }
        frames.push(chunk.subarray(at + 4, at + 4 + size));
        at += 4 + size;
      }
      if (at < chunk.length) this.keep(chunk.subarray(at));
      if (incompleteSize !== undefined) this.startAssemblyIfDue(4 + incompleteSize);
      return frames;
    }
    this.keep(chunk);
    for (;;) {
      if (this.buffered < 4) return frames;
      const head = this.peek(4);
      const size = this.frameSize(head, 0);
      if (this.buffered - 4 < size) {
        this.startAssemblyIfDue(4 + size);
        return frames;
      }
      const joined = this.take(4 + size);
      frames.push(joined.subarray(4));
    }
  }

  /**
   * Moves the incomplete frame the chunks hold (they hold nothing else then), `total` bytes with its
   * size prefix, into its own buffer once it is large and half of it is in.
   */
  private startAssemblyIfDue(total: number): void {
    if (total < this.assembleFromBytes || this.buffered * 2 < total) return;
    const frame = new Uint8Array(total);
    let filled = 0;
    for (const chunk of this.chunks) {
      frame.set(chunk, filled);
      filled += chunk.length;
    }
    this.chunks = [];
    this.buffered = 0;
    this.assembly = { frame, filled };
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
