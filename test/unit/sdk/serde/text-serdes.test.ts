import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { bytesSerde, isTextSerde, jsonSerde, stringSerde } from '../../../../sdk/serde/mod.ts';

describe('text serdes', () => {
  it('give string and JSON serdes a text form whose UTF-8 bytes are what serialize writes', () => {
    const json = jsonSerde<{ name: string; n: number }>();
    expect(isTextSerde(stringSerde)).toBe(true);
    expect(isTextSerde(json)).toBe(true);
    expect(isTextSerde(bytesSerde)).toBe(false);
    const value = { name: 'café ☕', n: 3 };
    expect(new TextEncoder().encode(json.toText(value))).toEqual(json.serialize(value));
    expect(json.fromText(json.toText(value))).toEqual(value);
    expect(stringSerde.toText('grüße')).toBe('grüße');
    expect(stringSerde.fromText('grüße')).toBe('grüße');
  });

  it('fail on text that holds no JSON value as deserialize fails on its bytes', () => {
    const json = jsonSerde<unknown>();
    const failures = [() => json.fromText('{"open": '), () => json.deserialize(new TextEncoder().encode('{"open": '))];
    for (const fail of failures) {
      let caught: unknown;
      try {
        fail();
      } catch (error) {
        caught = error;
      }
      expect(isKafkaError(caught, 'CORRUPT_MESSAGE'), String(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/record is not valid JSON/);
    }
  });

  it('keep a leading U+FEFF in a string (a character, as Java reads it), and parse JSON after a byte-order mark', () => {
    for (const text of ['\uFEFF', '\uFEFFa', 'a\uFEFF']) expect(stringSerde.deserialize(stringSerde.serialize(text))).toBe(text);
    expect(jsonSerde<{ a: number }>().deserialize(new TextEncoder().encode('\uFEFF{"a":1}'))).toEqual({ a: 1 });
  });

  it('decode any bytes, short or long, as a fatal TextDecoder does, and refuse invalid UTF-8 with CORRUPT_MESSAGE', () => {
    const reference = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }).map((s) => new TextEncoder().encode(s)));
    fc.assert(
      fc.property(bytes, (input) => {
        let expected: string | undefined;
        try {
          expected = reference.decode(input);
        } catch {
          expected = undefined;
        }
        if (expected !== undefined) {
          expect(stringSerde.deserialize(input)).toBe(expected);
          return;
        }
        let caught: unknown;
        try {
          stringSerde.deserialize(input);
        } catch (error) {
          caught = error;
        }
        expect(isKafkaError(caught, 'CORRUPT_MESSAGE'), String(caught)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(stringSerde.deserialize(new Uint8Array([0xef, 0xbb, 0xbf, 0x6b]))).toBe('\uFEFFk');
    expect(() => stringSerde.deserialize(new Uint8Array([0x6b, 0xff]))).toThrow(/not valid UTF-8/);
  });

  it('encode any text, short or long, to the bytes TextEncoder gives', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 40 })), (text) => {
        expect(stringSerde.serialize(text)).toEqual(encoder.encode(text));
      }),
      { numRuns: 500 },
    );
    expect(stringSerde.serialize('\ud800')).toEqual(encoder.encode('\ud800'));
  });
});
