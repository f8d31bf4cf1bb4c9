import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { ResponseFrames } from '../../../../sdk/transport/response-frames.ts';

function framed(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + 4 + f.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const f of frames) {
    view.setUint32(at, f.length);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

describe('ResponseFrames', () => {
  it('returns every frame intact however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 40 }),
        (frames, cuts) => {
          const stream = framed(frames);
          const splitter = new ResponseFrames(1024);
          const out: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const end = Math.min(stream.length, at + cuts[i % cuts.length]!);
            out.push(...splitter.push(stream.slice(at, end)));
            at = end;
          }
          expect(out.map((f) => [...f])).toEqual(frames.map((f) => [...f]));
        },
      ),
    );
  });

  it('fails on a size above the bound before the frame arrives', () => {
    const splitter = new ResponseFrames(100);
    let error: unknown;
    try {
      splitter.push(new Uint8Array([0, 0, 0, 101, 1]));
    } catch (e) {
      error = e;
    }
    expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
  });
});
