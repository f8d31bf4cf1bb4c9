/**
 * Batch compression codecs: compress and decompress MB/s (of uncompressed bytes) and the ratio,
 * per codec, for record sections of 16 KiB and 1 MiB made of JSON-like records (what producers
 * send) and of random bytes (the incompressible worst case). zstd also runs through both of its
 * implementations where the runtime has node:zlib's (Bun, Deno, Node 22.15+).
 *
 *   npm run build && node dist/bench/codecs.js [--seconds 0.5]
 *   bun bench/codecs.ts    |    deno run -A bench/codecs.ts
 */
import { parseArgs } from 'node:util';
import { CompressionType, compress, decompress, RecordBatchBuilder } from '../sdk/mod.ts';
import { zstdImplementation } from '../sdk/record/zstd-codec.ts';
import { zstdWasmCompress, zstdWasmDecompress } from '../sdk/record/zstd-wasm.ts';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.5' } } });
const seconds = Number(values.seconds);

/** The records section of a batch of JSON-like records (varied ids, users, amounts), about `bytes` long. */
function jsonRecords(bytes: number): Uint8Array {
  const builder = new RecordBatchBuilder({ maxBatchBytes: bytes * 2 });
  const encoder = new TextEncoder();
  let x = 12345;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let i = 0; builder.sizeEstimate < bytes; i++) {
    const value = JSON.stringify({ id: i, user: `user-${next() % 5000}`, event: ['view', 'click', 'buy', 'share'][next() % 4], amount: (next() % 100000) / 100, ts: 1_700_000_000_000 + i * 7 });
    builder.append({ key: encoder.encode(`user-${next() % 5000}`), value: encoder.encode(value), timestamp: 1_700_000_000_000 + i });
  }
  return builder.seal().subarray(61);
}

function randomBytes(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = 99;
  for (let i = 0; i < bytes; i++) out[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return out;
}

/** MB/s of `bytes` processed per call, best of three timed rounds of `seconds` each after a warm-up. */
function rate(bytes: number, fn: () => unknown): number {
  for (let i = 0; i < 3; i++) fn();
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let calls = 0;
    const start = performance.now();
    let elapsedMs = 0;
    do {
      fn();
      calls++;
      elapsedMs = performance.now() - start;
    } while (elapsedMs < (seconds * 1000) / 3);
    best = Math.max(best, (bytes * calls) / (1024 * 1024) / (elapsedMs / 1000));
  }
  return best;
}

interface Codec {
  name: string;
  compress(bytes: Uint8Array): Uint8Array;
  decompress(bytes: Uint8Array, size: number): Uint8Array;
}

const codecs: Codec[] = (['gzip', 'snappy', 'lz4', 'zstd'] as const).map((name) => ({
  name: name === 'zstd' ? `zstd (${zstdImplementation})` : name,
  compress: (bytes) => compress(CompressionType[name], bytes),
  decompress: (bytes) => decompress(CompressionType[name], bytes),
}));
if (zstdImplementation !== 'wasm') {
  codecs.push({
    name: 'zstd (wasm)',
    compress: (bytes) => zstdWasmCompress(bytes, 3),
    decompress: (bytes, size) => {
      const out = zstdWasmDecompress(bytes, size);
      if (!(out instanceof Uint8Array)) throw new Error(`zstd wasm: ${out}`);
      return out;
    },
  });
}

const inputs: [string, Uint8Array][] = [
  ['json 16 KiB', jsonRecords(16 * 1024)],
  ['json 1 MiB', jsonRecords(1024 * 1024)],
  ['random 1 MiB', randomBytes(1024 * 1024)],
];

const key = (s: string): string => s.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '').toLowerCase();
const figures: Record<string, number | string> = {};
const rows: string[][] = [['codec', 'input', 'ratio', 'compress MB/s', 'decompress MB/s']];
for (const codec of codecs) {
  for (const [label, input] of inputs) {
    const packed = codec.compress(input);
    const back = codec.decompress(packed, input.length);
    if (back.length !== input.length || !back.every((v, i) => v === input[i])) throw new Error(`${codec.name} did not round-trip ${label}`);
    const compressMbS = rate(input.length, () => codec.compress(input));
    const decompressMbS = rate(input.length, () => codec.decompress(packed, input.length));
    const ratio = input.length / packed.length;
    rows.push([codec.name, label, ratio.toFixed(2), compressMbS.toFixed(0), decompressMbS.toFixed(0)]);
    const prefix = `${key(codec.name)}_${key(label)}`;
    figures[`${prefix}_ratio`] = +ratio.toFixed(2);
    figures[`${prefix}_compress_mb_s`] = +compressMbS.toFixed(1);
    figures[`${prefix}_decompress_mb_s`] = +decompressMbS.toFixed(1);
  }
}
printTable('batch compression codecs (MB/s of uncompressed bytes)', rows);
console.log(JSON.stringify({ bench: 'codecs', runtime: runtimeName(), zstd: zstdImplementation, ...figures }));
