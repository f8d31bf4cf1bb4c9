/**
 * MurmurHash3 x86_128 of `bytes[start, end)` into `out[0..3]`: 128 bits, as Kafka's cleaner keeps
 * a 128-bit digest (MD5) per key, so two keys sharing a hash (which would make the cleaner drop
 * the older one's latest record) is as unlikely as there. Only 32-bit integer arithmetic, so it
 * runs at full speed without BigInt.
 */
const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function word(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** The bytes of the tail of a block, from `i` up to `count` bytes, as a little-endian word. */
function partialWord(b: Uint8Array, i: number, count: number): number {
  let k = 0;
  for (let j = count - 1; j >= 0; j--) k = (k << 8) | b[i + j]!;
  return k;
}

export function murmur3x128(bytes: Uint8Array, start: number, end: number, out: Int32Array, seed = 0): void {
  const length = end - start;
  let h1 = seed | 0;
  let h2 = seed | 0;
  let h3 = seed | 0;
  let h4 = seed | 0;
  const blocksEnd = start + (length & ~15);
  for (let i = start; i < blocksEnd; i += 16) {
    let k1 = word(bytes, i);
    let k2 = word(bytes, i + 4);
    let k3 = word(bytes, i + 8);
    let k4 = word(bytes, i + 12);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const tail = length & 15;
  if (tail > 12) h4 ^= Math.imul(rotl(Math.imul(partialWord(bytes, blocksEnd + 12, tail - 12), C4), 18), C1);
  if (tail > 8) h3 ^= Math.imul(rotl(Math.imul(partialWord(bytes, blocksEnd + 8, Math.min(tail - 8, 4)), C3), 17), C4);
  if (tail > 4) h2 ^= Math.imul(rotl(Math.imul(partialWord(bytes, blocksEnd + 4, Math.min(tail - 4, 4)), C2), 16), C3);
  if (tail > 0) h1 ^= Math.imul(rotl(Math.imul(partialWord(bytes, blocksEnd, Math.min(tail, 4)), C1), 15), C2);
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  out[0] = h1;
  out[1] = (h2 + h1) | 0;
  out[2] = (h3 + h1) | 0;
  out[3] = (h4 + h1) | 0;
}
