import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolEncodeError, Reader, Writer } from '../../../../sdk/protocol/mod.ts';
import { REFERENCE_RAW_BYTES } from '../../../../sdk/protocol/writer.ts';

describe('Writer with large raw byte strings (kept by reference until finish)', () => {
  it('produces the frame a plain copy would, around small fields and tagged fields', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 6 }),
        (items) => {
          const w = new Writer(16);
          for (const [length, fill, tagged] of items) {
            w.writeInt32(length);
            const bytes = new Uint8Array(length).fill(fill);
            if (tagged) {
              const start = w.beginTaggedField(7);
              w.writeCompactBytes(bytes);
              w.endTaggedField(start);
            } else {
              w.writeCompactBytes(bytes);
            }
          }
          const r = new Reader(w.finish());
          for (const [length, fill, tagged] of items) {
            expect(r.readInt32()).toBe(length);
            if (tagged) {
              expect(r.readUvarint()).toBe(7);
              r.readUvarint();
            }
            const bytes = r.readCompactBytes();
            expect(bytes.length).toBe(length);
            expect(bytes.every((b) => b === fill)).toBe(true);
          }
          r.expectEnd();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('counts referenced bytes against maxBytes', () => {
    const w = new Writer(16, 100_000);
    w.writeRaw(new Uint8Array(70_000));
    expect(() => w.writeRaw(new Uint8Array(70_000))).toThrow(ProtocolEncodeError);
  });
});

/** Bytes that differ by position, so a misplaced or shifted part cannot compare equal. */
function patterned(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + length) & 0xff;
  return bytes;
}

describe('Writer.finishParts', () => {
  const op = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => ({ kind: 'int32' as const, n })),
    fc.string({ maxLength: 40 }).map((text) => ({ kind: 'string' as const, text })),
    fc.integer({ min: 0, max: 200_000 }).map((length) => ({ kind: 'raw' as const, length })),
  );

  it('holds exactly the bytes finish() joins, in order, without copying large raw byte strings', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const write = (w: Writer): Uint8Array[] => {
          const raws: Uint8Array[] = [];
          for (const o of ops) {
            if (o.kind === 'int32') w.writeInt32(o.n);
            else if (o.kind === 'string') w.writeString(o.text);
            else {
              const raw = patterned(o.length);
              raws.push(raw);
              w.writeBytes(raw);
            }
          }
          return raws;
        };
        const joined = new Writer();
        write(joined);
        const split = new Writer();
        const raws = write(split);
        const parts = split.finishParts();
        // Buffer.equals compares in native code; a deep toEqual over megabytes took minutes.
        expect(Buffer.concat(parts).equals(joined.finish())).toBe(true);
        for (const raw of raws) if (raw.length >= REFERENCE_RAW_BYTES) expect(parts.some((part) => part === raw)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
