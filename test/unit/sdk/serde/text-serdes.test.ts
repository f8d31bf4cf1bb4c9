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
});
