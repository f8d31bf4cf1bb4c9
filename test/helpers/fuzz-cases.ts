import { judgeFrame } from './fuzz-frame-check.ts';
import { concatBytes } from './batch-fixture.ts';
import { breakCrc, mutateHeader, mutateOnce, sizePrefixed } from './fuzz-mutators.ts';
import type { FuzzRandom } from './fuzz-random.ts';
import type { SeedFrame } from './fuzz-seeds.ts';

export type FuzzCaseKind =
  | 'mutatedBody'
  | 'corruptProduce'
  | 'unknownApi'
  | 'hugeFrameSize'
  | 'truncatedThenClose'
  | 'garbageThenClose'
  | 'parkedThenClose'
  | 'splitValid'
  | 'pipelined';

/**
 * One thing to do to a connection. `sentinel` cases keep the framing intact, so a sentinel request
 * behind them tells when the broker is done; `close` cases leave the stream unframeable (or a fetch
 * parked), so the fuzzer half-closes and awaits the broker's close instead.
 */
export interface FuzzCase {
  kind: FuzzCaseKind;
  path: 'sentinel' | 'close';
  /** Bytes to write, size prefixes included. */
  bytes: Uint8Array;
  /** Request frames in `bytes`. */
  frames: number;
  /** For `sentinel` cases: write in chunks of this many bytes (tiny writes). */
  chunkBytes?: number;
  /** The broker must answer every frame of this case (it is a valid request). */
  mustAnswer: boolean;
}

export interface CaseContext {
  seeds: readonly SeedFrame[];
  produceSeeds: readonly SeedFrame[];
  /** Seeds safe to send unmutated: they append nothing. */
  harmlessSeeds: readonly SeedFrame[];
  maxRequestBytes: number;
  protectedTopics: ReadonlySet<string>;
}

const WEIGHTS = {
  mutatedBody: 40,
  corruptProduce: 16,
  unknownApi: 7,
  hugeFrameSize: 6,
  truncatedThenClose: 6,
  garbageThenClose: 5,
  splitValid: 6,
  pipelined: 6,
} as const;

function mutated(rng: FuzzRandom, seed: SeedFrame): Uint8Array {
  let frame = seed.frame;
  const rounds = rng.pick([1, 1, 1, 2, 3, 5]);
  for (let i = 0; i < rounds; i++) frame = mutateOnce(rng, frame);
  return frame;
}

/**
 * A Produce frame whose batch CRC is broken first, then optionally edited further (mostly before
 * the records, where the counts and lengths are).
 */
function corruptProduce(rng: FuzzRandom, seed: SeedFrame): Uint8Array {
  const covered = rng.pick(seed.crcCovered);
  let frame = breakCrc(rng, seed.frame, covered);
  const rounds = rng.pick([0, 0, 1, 1, 2]);
  const prefix = { start: 0, end: seed.crcCovered[0]!.start };
  for (let i = 0; i < rounds; i++) frame = mutateOnce(rng, frame, prefix);
  return frame;
}

function correlationIdOf(frame: Uint8Array): number {
  return frame.length >= 8 ? new DataView(frame.buffer, frame.byteOffset).getInt32(4) : -1;
}

function sentinelCase(kind: FuzzCaseKind, frame: Uint8Array, ctx: CaseContext): FuzzCase | undefined {
  const verdict = judgeFrame(frame, ctx.protectedTopics);
  if (verdict === 'unsafe') return undefined;
  if (verdict === 'parks') return { kind: 'parkedThenClose', path: 'close', bytes: sizePrefixed(frame), frames: 1, mustAnswer: false };
  return { kind, path: 'sentinel', bytes: sizePrefixed(frame), frames: 1, mustAnswer: false };
}

/** Draws the next case; undefined when the draw would be unsafe to send (the caller draws again). */
export function drawCase(rng: FuzzRandom, ctx: CaseContext): FuzzCase | undefined {
  const kind = rng.weighted(WEIGHTS);
  switch (kind) {
    case 'mutatedBody':
      return sentinelCase(kind, mutated(rng, rng.pick(ctx.seeds)), ctx);
    case 'corruptProduce':
      return sentinelCase(kind, corruptProduce(rng, rng.pick(ctx.produceSeeds)), ctx);
    case 'unknownApi': {
      const frame = mutateHeader(rng, rng.pick(ctx.seeds).frame);
      return sentinelCase(kind, rng.chance(0.3) ? mutateOnce(rng, frame) : frame, ctx);
    }
    case 'hugeFrameSize': {
      const declared = rng.pick([
        ctx.maxRequestBytes,
        ctx.maxRequestBytes - 1,
        ctx.maxRequestBytes + 1,
        0x7fffffff,
        -1,
        -0x80000000,
        0,
        rng.range(1, ctx.maxRequestBytes),
        rng.range(ctx.maxRequestBytes, 0x7fffffff),
      ]);
      const seed = rng.pick(ctx.seeds).frame;
      const body = rng.chance(0.5) ? seed.subarray(0, rng.int(seed.length + 1)) : rng.bytes(rng.int(8192));
      return { kind, path: 'close', bytes: sizePrefixed(body, declared), frames: 1, mustAnswer: false };
    }
    case 'truncatedThenClose': {
      const whole = sizePrefixed(rng.chance(0.5) ? rng.pick(ctx.seeds).frame : mutated(rng, rng.pick(ctx.seeds)));
      return { kind, path: 'close', bytes: whole.subarray(0, rng.int(whole.length)), frames: 1, mustAnswer: false };
    }
    case 'garbageThenClose':
      return { kind, path: 'close', bytes: rng.bytes(rng.range(1, rng.chance(0.1) ? 65536 : 512)), frames: 1, mustAnswer: false };
    case 'splitValid': {
      const seed = rng.pick(ctx.harmlessSeeds);
      return { kind, path: 'sentinel', bytes: sizePrefixed(seed.frame), frames: 1, chunkBytes: rng.range(1, 7), mustAnswer: true };
    }
    case 'pipelined': {
      const count = rng.range(2, 12);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < count; i++) {
        const frame = rng.chance(0.5) ? corruptProduce(rng, rng.pick(ctx.produceSeeds)) : mutated(rng, rng.pick(ctx.seeds));
        if (judgeFrame(frame, ctx.protectedTopics) !== 'send') return undefined;
        frames.push(sizePrefixed(frame));
      }
      return { kind, path: 'sentinel', bytes: concatBytes(frames), frames: count, mustAnswer: false };
    }
  }
}

/** Correlation ids of the framed requests in `bytes`, which a sentinel behind them must not reuse. */
export function correlationIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 4 <= bytes.length; ) {
    const size = dv.getInt32(at);
    if (size < 0 || at + 4 + size > bytes.length) break;
    ids.push(correlationIdOf(bytes.subarray(at + 4, at + 4 + size)));
    at += 4 + size;
  }
  return ids;
}

export function hex(bytes: Uint8Array, maxBytes = 4096): string {
  let out = '';
  for (let i = 0; i < Math.min(bytes.length, maxBytes); i++) out += bytes[i]!.toString(16).padStart(2, '0');
  return bytes.length > maxBytes ? `${out}…(${bytes.length} bytes)` : out;
}
