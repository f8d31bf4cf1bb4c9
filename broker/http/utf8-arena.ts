const FIRST_CHUNK_BYTES = 1024;
const MAX_CHUNK_BYTES = 64 * 1024;

/**
 * Encodes many short strings to UTF-8 as views into shared chunks: `TextEncoder.encode` allocates
 * a fresh ArrayBuffer per string, which on Node and Deno costs four to five times the encoding
 * itself. Chunks double from 1 KiB to 64 KiB, so an arena that encodes little allocates little.
 * The views stay valid as long as they are referenced: a chunk is only ever filled forward.
 */
export class Utf8Arena {
  private static readonly encoder = new TextEncoder();
  private chunk = new Uint8Array(0);
  private at = 0;
  private nextChunkBytes = FIRST_CHUNK_BYTES;

  encode(text: string): Uint8Array {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair's 4 bytes stand for 2 units).
    const maxBytes = text.length * 3;
    if (this.chunk.byteLength - this.at < maxBytes) {
      this.chunk = new Uint8Array(Math.max(this.nextChunkBytes, maxBytes));
      this.at = 0;
      this.nextChunkBytes = Math.min(this.nextChunkBytes * 2, MAX_CHUNK_BYTES);
    }
    const { written } = Utf8Arena.encoder.encodeInto(text, this.chunk.subarray(this.at));
    const bytes = this.chunk.subarray(this.at, this.at + written);
    this.at += written;
    return bytes;
  }
}
