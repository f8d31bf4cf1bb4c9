import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireWasmPackage } from './wasm-package.ts';

/**
 * zstd compiled to WebAssembly (@bokuweb/zstd-wasm, zstd's own C sources through Emscripten), for
 * runtimes whose node:zlib has no zstd (Node before 22.15). The package's own `init()` is async;
 * Emscripten's documented `instantiateWasm` hook lets us compile and instantiate the module
 * synchronously instead, so the codec is usable from the synchronous record paths.
 */
type WasmImports = ConstructorParameters<typeof WebAssembly.Instance>[1];

interface EmscriptenZstd {
  HEAPU8: Uint8Array;
  instantiateWasm?: (imports: WasmImports, receive: (instance: WebAssembly.Instance) => void) => unknown;
  init(): void;
  calledRun?: boolean;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _ZSTD_isError(code: number): number;
  _ZSTD_compressBound(bytes: number): number;
  _ZSTD_createCCtx(): number;
  _ZSTD_createDCtx(): number;
  _ZSTD_compress_usingDict(cctx: number, dst: number, dstCapacity: number, src: number, srcSize: number, dict: number, dictSize: number, level: number): number;
  _ZSTD_decompress_usingDict(dctx: number, dst: number, dstCapacity: number, src: number, srcSize: number, dict: number, dictSize: number): number;
}

/** `ZSTD_error_dstSize_tooSmall`: results are `-(error code)` read back as a signed 32-bit size_t. */
const ERROR_DST_SIZE_TOO_SMALL = -70;

let loaded: { module: EmscriptenZstd; cctx: number; dctx: number } | undefined;

function load(): { module: EmscriptenZstd; cctx: number; dctx: number } {
  if (loaded !== undefined) return loaded;
  const dist = dirname(requireWasmPackage.resolve('@bokuweb/zstd-wasm'));
  const module = (requireWasmPackage(join(dist, 'zstd.js')) as { Module: EmscriptenZstd }).Module;
  const compiled = new WebAssembly.Module(readFileSync(join(dist, 'zstd.wasm')));
  module.instantiateWasm = (imports, receive) => {
    const instance = new WebAssembly.Instance(compiled, imports);
    receive(instance);
    return instance.exports;
  };
  module.init();
  if (module.calledRun !== true) throw new Error('invariant: zstd-wasm did not initialise synchronously');
  loaded = { module, cctx: module._ZSTD_createCCtx(), dctx: module._ZSTD_createDCtx() };
  return loaded;
}

export function zstdWasmCompress(bytes: Uint8Array, level: number): Uint8Array {
  const { module, cctx } = load();
  const bound = module._ZSTD_compressBound(bytes.length);
  const src = module._malloc(Math.max(bytes.length, 1));
  const dst = module._malloc(bound);
  try {
    module.HEAPU8.set(bytes, src);
    const written = module._ZSTD_compress_usingDict(cctx, dst, bound, src, bytes.length, 0, 0, level);
    if (module._ZSTD_isError(written)) throw new Error(`invariant: ZSTD_compress failed with ${written}`);
    return module.HEAPU8.slice(dst, dst + written);
  } finally {
    module._free(src);
    module._free(dst);
  }
}

/** Outcome of a bounded decompression: the bytes, or why there are none. */
export type ZstdWasmResult = Uint8Array | 'too-small' | 'corrupt';

/** Decompresses every frame of `bytes` into at most `capacity` bytes. */
export function zstdWasmDecompress(bytes: Uint8Array, capacity: number): ZstdWasmResult {
  const { module, dctx } = load();
  const src = module._malloc(Math.max(bytes.length, 1));
  const dst = module._malloc(Math.max(capacity, 1));
  try {
    module.HEAPU8.set(bytes, src);
    const written = module._ZSTD_decompress_usingDict(dctx, dst, capacity, src, bytes.length, 0, 0);
    if (module._ZSTD_isError(written)) return written === ERROR_DST_SIZE_TOO_SMALL ? 'too-small' : 'corrupt';
    return module.HEAPU8.slice(dst, dst + written);
  } finally {
    module._free(src);
    module._free(dst);
  }
}
