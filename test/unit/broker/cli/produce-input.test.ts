import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputLineError, type LineFormat, parseLine } from '../../../../broker/cli/produce-input.ts';
import { formatRecord } from '../../../../broker/cli/record-output.ts';

const text = new TextEncoder();
const base: LineFormat = { format: 'text', envelope: false, keySeparator: undefined, key: null, headers: [], partition: undefined };

describe('produce input lines', () => {
  it('reads text lines, key<SEP>value lines and the defaults every record gets', () => {
    expect(parseLine('hello', base)).toEqual({ key: null, value: text.encode('hello'), headers: [], partition: undefined, timestamp: undefined });
    expect(parseLine('', base)?.value).toEqual(new Uint8Array(0));
    const keyed = parseLine('k::v::w', { ...base, keySeparator: '::', headers: [{ key: 'h', value: text.encode('1') }], partition: 3 });
    expect(keyed).toEqual({ key: text.encode('k'), value: text.encode('v::w'), headers: [{ key: 'h', value: text.encode('1') }], partition: 3, timestamp: undefined });
    expect(() => parseLine('no separator', { ...base, keySeparator: '\t' })).toThrow(InputLineError);
  });

  it('stores JSON lines as written and rejects what is not JSON', () => {
    const json: LineFormat = { ...base, format: 'json' };
    expect(parseLine('  {"a": [1, 2]} ', json)?.value).toEqual(text.encode('{"a": [1, 2]}'));
    expect(parseLine('   ', json)).toBeUndefined();
    expect(() => parseLine('{"a":', json)).toThrow(/not valid JSON/);
  });

  it('reads envelopes as the HTTP API stores records, and refuses malformed ones', () => {
    const envelope: LineFormat = { ...base, format: 'json', envelope: true, key: text.encode('default') };
    expect(parseLine('{"value":"s","headers":[{"key":"h","value":"AAE=","encoding":"base64"}],"partition":1,"timestamp":5}', envelope)).toEqual({
      key: text.encode('default'),
      value: text.encode('"s"'),
      headers: [{ key: 'h', value: new Uint8Array([0, 1]) }],
      partition: 1,
      timestamp: 5,
    });
    expect(parseLine('{"key":"k","value":null}', envelope)).toMatchObject({ key: text.encode('k'), value: null });
    for (const bad of ['[1]', '{"value":1,"extra":2}', '{"partition":-1}', '{"key":5}', '{"value":"!!","valueEncoding":"base64"}', '{"value":1,"valueEncoding":"utf8"}', '{"headers":{"h":1}}']) {
      expect(() => parseLine(bad, envelope), bad).toThrow(InputLineError);
    }
  });

  it('reads back any record consume --format json prints', () => {
    const bytes = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null });
    fc.assert(
      fc.property(bytes, bytes, fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: bytes }), { maxLength: 3 }), (key, value, headers) => {
        const printed = formatRecord({ topic: 't', partition: 2, offset: 7, timestamp: 1_000, key, value, headers }, 'json', undefined) as string;
        const record = parseLine(printed.trimEnd(), { ...base, format: 'json', envelope: true })!;
        // A value holding JSON text is printed as that JSON and stored again as JSON text: same meaning, maybe other spacing.
        const asJson = value === null ? undefined : tryJson(value);
        if (asJson !== undefined) expect(JSON.parse(new TextDecoder().decode(record.value!))).toEqual(asJson);
        else expect(record.value).toEqual(value);
        expect(record.key).toEqual(key);
        expect(record.headers).toEqual(headers);
        expect(record).toMatchObject({ partition: 2, timestamp: 1_000 });
      }),
    );
  });
});

function tryJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}
