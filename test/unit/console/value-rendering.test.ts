import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { bytesAsText, renderValue } from '../../../console/src/value-rendering.ts';

const utf8 = new TextEncoder();

describe("the record browser's value renderings", () => {
  it('shows JSON pretty-printed, other text as it is, and bytes that are no UTF-8 as base64', () => {
    expect(renderValue(utf8.encode('{"a":1,"b":[true]}'), 'json')).toBe('{\n  "a": 1,\n  "b": [\n    true\n  ]\n}');
    expect(renderValue(utf8.encode('plain words'), 'json')).toBe('plain words');
    expect(renderValue(utf8.encode('{"a":1}'), 'text')).toBe('{"a":1}');
    expect(renderValue(Uint8Array.of(0xff, 0xfe, 0x00), 'text')).toBe('base64: //4A');
    expect(renderValue(null, 'hex')).toBe('(null)');
    expect(bytesAsText(utf8.encode('naïve'))).toBe('naïve');
  });

  it('decodes MessagePack, with int64, binary and non-string map keys shown in JSON, and says so when the bytes are not MessagePack', () => {
    const packed = encode({ id: 2n ** 60n, blob: Uint8Array.of(1, 2, 3), tags: ['x'] }, { useBigInt64: true });
    expect(JSON.parse(renderValue(packed, 'msgpack'))).toEqual({ id: '1152921504606846976', blob: 'base64: AQID', tags: ['x'] });
    expect(renderValue(Uint8Array.of(0xc1), 'msgpack')).toMatch(/^not MessagePack \(/);
  });

  it('dumps bytes in hex, 16 to a line with their offset, the first 4 KiB only', () => {
    const bytes = Uint8Array.from({ length: 4100 }, (_, i) => i & 0xff);
    const lines = renderValue(bytes, 'hex').split('\n');
    expect(lines[0]).toBe('00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f');
    expect(lines[1]!.startsWith('00000010  10 11')).toBe(true);
    expect(lines).toHaveLength(257);
    expect(lines.at(-1)).toBe('… 4 more bytes');
  });
});
