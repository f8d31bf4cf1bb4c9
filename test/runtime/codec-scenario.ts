import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { CompressionType, compress, decompress } from '../../sdk/record/mod.ts';
import { zstdImplementation } from '../../sdk/record/zstd-codec.ts';
import { zstdWasmCompress, zstdWasmDecompress } from '../../sdk/record/zstd-wasm.ts';

/**
 * The codecs on this runtime: every codec round-trips text-like and incompressible data, refuses
 * output past its bound and garbage with CORRUPT_MESSAGE, and zstd's two implementations (the
 * runtime's node:zlib where it has one, WebAssembly otherwise) read each other's frames.
 */
export function runCodecChecks(check: (condition: boolean, what: string) => void): void {
  const text = new TextEncoder().encode(Array.from({ length: 5000 }, (_, i) => `{"id":${i},"user":"u-${i % 97}"}`).join('\n'));
  const noise = new Uint8Array(70_000);
  for (let i = 0, x = 7; i < noise.length; i++) noise[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  const corrupt = (fn: () => unknown): boolean => {
    try {
      fn();
      return false;
    } catch (error) {
      return isKafkaError(error, 'CORRUPT_MESSAGE');
    }
  };
  for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const type = CompressionType[name];
    const packed = compress(type, text);
    check(packed.length < text.length / 3 && same(decompress(type, packed), text), `${name} round-trips text, ${text.length} -> ${packed.length} bytes`);
    check(same(decompress(type, compress(type, noise)), noise), `${name} round-trips incompressible data`);
    check(corrupt(() => decompress(type, packed, text.length - 1)), `${name} refuses output past the bound`);
    check(corrupt(() => decompress(type, packed.subarray(0, packed.length >> 1))), `${name} refuses a truncated frame`);
  }
  // Deno's node:zlib (2.9) decodes only the first zstd frame; the codec goes frame by frame.
  const skippable = [0x5a, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 7, 7];
  const twoFrames = new Uint8Array([...skippable, ...compress(CompressionType.zstd, text), ...skippable, ...compress(CompressionType.zstd, noise)]);
  const joined = new Uint8Array([...text, ...noise]);
  check(same(decompress(CompressionType.zstd, twoFrames), joined), 'zstd reads frames back to back, skippable frames between');
  check(corrupt(() => decompress(CompressionType.zstd, twoFrames, joined.length - 1)), 'zstd bounds the sum of several frames');
  const native = zstdImplementation === 'node:zlib';
  const fromWasm = zstdWasmCompress(text, 3);
  const intoWasm = zstdWasmDecompress(compress(CompressionType.zstd, text), text.length);
  check(same(decompress(CompressionType.zstd, fromWasm), text), `zstd (${zstdImplementation}) reads the WebAssembly build's frames`);
  check(intoWasm instanceof Uint8Array && same(intoWasm, text), `the WebAssembly build reads zstd (${zstdImplementation}) frames`);
  if ('Bun' in globalThis || 'Deno' in globalThis) check(native, 'zstd uses node:zlib on Bun and Deno');
}
