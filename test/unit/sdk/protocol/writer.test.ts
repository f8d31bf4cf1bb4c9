import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolEncodeError, Reader, Writer } from '../../../../sdk/protocol/mod.ts';

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
