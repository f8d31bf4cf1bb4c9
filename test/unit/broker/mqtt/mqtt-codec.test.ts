import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../../broker/mqtt/mqtt-decode.ts';
import { encodePacket } from '../../../../broker/mqtt/mqtt-encode.ts';
import { PacketType, ProtocolVersion, type ProtocolVersionValue } from '../../../../broker/mqtt/mqtt-packet.ts';
import { MqttPacketSplitter } from '../../../../broker/mqtt/mqtt-packet-splitter.ts';
import { MqttProtocolError, ReasonCode } from '../../../../broker/mqtt/mqtt-reason-code.ts';
import { packetArbitrary } from '../../../helpers/mqtt-arbitraries.ts';

function split(bytes: Uint8Array, max = 1 << 20) {
  const packets = new MqttPacketSplitter(max).push(bytes);
  expect(packets).toHaveLength(1);
  return packets[0]!;
}

function decodeBytes(bytes: number[] | Uint8Array, version: ProtocolVersionValue = ProtocolVersion.v5) {
  const raw = split(Uint8Array.from(bytes));
  return decodePacket(raw.first, raw.body, version);
}

function reasonOf(run: () => unknown): number {
  try {
    run();
  } catch (error) {
    if (error instanceof MqttProtocolError) return error.reasonCode;
    throw error;
  }
  throw new Error('expected an MqttProtocolError');
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];
const str = (s: string) => {
  const b = utf8(s);
  return [b.length >> 8, b.length & 0xff, ...b];
};
const framed = (first: number, body: number[]) => [first, body.length, ...body];

describe('MQTT packet codec', () => {
  for (const version of [ProtocolVersion.v311, ProtocolVersion.v5]) {
    it(`decodes what it encodes, every packet type (MQTT ${version === 5 ? '5.0' : '3.1.1'})`, () => {
      fc.assert(
        fc.property(packetArbitrary(version), (packet) => {
          const raw = split(encodePacket(packet, version));
          expect(decodePacket(raw.first, raw.body, version)).toEqual(packet);
        }),
        { numRuns: 2_000 },
      );
    });
  }

  it('splits a stream cut at any byte into the same packets', () => {
    fc.assert(
      fc.property(fc.array(packetArbitrary(ProtocolVersion.v5), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), (packets, cuts) => {
        const encoded = packets.map((p) => encodePacket(p, ProtocolVersion.v5));
        const stream = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
        let at = 0;
        for (const e of encoded) {
          stream.set(e, at);
          at += e.length;
        }
        const points = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
        const splitter = new MqttPacketSplitter(1 << 20);
        const out = [];
        let from = 0;
        for (const point of [...points, stream.length]) {
          out.push(...splitter.push(stream.subarray(from, point)));
          from = point;
        }
        expect(out.map((r) => decodePacket(r.first, r.body, ProtocolVersion.v5))).toEqual(packets);
        expect(splitter.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a packet larger than the maximum from its header, before its body arrives', () => {
    const splitter = new MqttPacketSplitter(100);
    expect(reasonOf(() => splitter.push(Uint8Array.from([0x30, 0xe8, 0x07])))).toBe(ReasonCode.PacketTooLarge);
  });

  it('refuses a Remaining Length of 5 bytes or not in its shortest form', () => {
    expect(reasonOf(() => new MqttPacketSplitter(1 << 30).push(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => new MqttPacketSplitter(1 << 30).push(Uint8Array.from([0xc0, 0x80, 0x00])))).toBe(ReasonCode.MalformedPacket);
  });

  it('refuses wrong fixed-header flags, reserved type 0 and AUTH before MQTT 5', () => {
    expect(reasonOf(() => decodeBytes([0x60, 2, 0, 1]))).toBe(ReasonCode.MalformedPacket); // PUBREL must carry 0b0010
    expect(reasonOf(() => decodeBytes([0x82, 2, 0, 1]))).toBe(ReasonCode.MalformedPacket); // SUBSCRIBE flags 0
    expect(reasonOf(() => decodeBytes([0xc1, 0]))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes([0x00, 0]))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes([0xf0, 0], ProtocolVersion.v311))).toBe(ReasonCode.MalformedPacket);
  });

  it('refuses PUBLISH with QoS 3, DUP on QoS 0, packet id 0, or a wildcard in the topic', () => {
    expect(reasonOf(() => decodeBytes(framed(0x36, [...str('a'), 0, 1, 0])))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(framed(0x38, [...str('a'), 0])))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(framed(0x32, [...str('a'), 0, 0, 0])))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str('a/+'), 0])))).toBe(ReasonCode.TopicNameInvalid);
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str(''), 0])))).toBe(ReasonCode.TopicNameInvalid);
  });

  it('refuses strings with U+0000 or ill-formed UTF-8 (an encoded surrogate)', () => {
    expect(reasonOf(() => decodeBytes(framed(0x30, [0, 3, 0x61, 0x00, 0x62, 0])))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(framed(0x30, [0, 3, 0xed, 0xa0, 0x80, 0])))).toBe(ReasonCode.MalformedPacket);
  });

  it('refuses properties not allowed in the packet (malformed), repeated or out of range (protocol error)', () => {
    // PUBLISH carrying Session Expiry Interval (0x11).
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str('a'), 5, 0x11, 0, 0, 0, 1])))).toBe(ReasonCode.MalformedPacket);
    // Content Type twice.
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str('a'), 8, 0x03, ...str('x'), 0x03, ...str('y')])))).toBe(ReasonCode.ProtocolError);
    // Payload Format Indicator 2, Topic Alias 0.
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str('a'), 2, 0x01, 2])))).toBe(ReasonCode.ProtocolError);
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str('a'), 3, 0x23, 0, 0])))).toBe(ReasonCode.ProtocolError);
    // A property length running past the packet.
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str('a'), 9, 0x01, 1])))).toBe(ReasonCode.MalformedPacket);
    // Unknown identifier 0x7f.
    expect(reasonOf(() => decodeBytes(framed(0x30, [...str('a'), 2, 0x7f, 0])))).toBe(ReasonCode.MalformedPacket);
  });

  it('refuses CONNECT with the reserved flag, will QoS 3, will flags without a will, and answers an unknown level with its own code', () => {
    const connect = (flags: number, level = 5, name = 'MQTT') => framed(0x10, [...str(name), level, flags, 0, 60, ...(level === 5 ? [0] : []), ...str('c')]);
    expect(reasonOf(() => decodeBytes(connect(0x01)))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(connect(0x04 | 0x18)))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(connect(0x20)))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(connect(0x02, 3)))).toBe(ReasonCode.UnsupportedProtocolVersion);
    expect(reasonOf(() => decodeBytes(connect(0x02, 4, 'MQIsdp')))).toBe(ReasonCode.UnsupportedProtocolVersion);
    expect(reasonOf(() => decodeBytes(connect(0x40, 4)))).toBe(ReasonCode.ProtocolError);
    expect(reasonOf(() => decodeBytes(connect(0x02, 5, 'XQTT')))).toBe(ReasonCode.ProtocolError);
    expect(decodeBytes(connect(0x02))).toMatchObject({ type: PacketType.CONNECT, cleanStart: true, clientId: 'c', keepAliveSeconds: 60 });
  });

  it('refuses SUBSCRIBE without filters, with reserved option bits or retain handling 3', () => {
    expect(reasonOf(() => decodeBytes(framed(0x82, [0, 1, 0])))).toBe(ReasonCode.ProtocolError);
    expect(reasonOf(() => decodeBytes(framed(0x82, [0, 1, 0, ...str('a'), 0x40])))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(framed(0x82, [0, 1, 0, ...str('a'), 0x30])))).toBe(ReasonCode.ProtocolError);
    expect(reasonOf(() => decodeBytes(framed(0x82, [0, 1, ...str('a'), 0x04]), ProtocolVersion.v311))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes(framed(0xa2, [0, 1, 0])))).toBe(ReasonCode.ProtocolError);
  });

  it('refuses trailing bytes after a complete 3.1.1 acknowledgement or PINGREQ', () => {
    expect(reasonOf(() => decodeBytes([0x40, 3, 0, 1, 0], ProtocolVersion.v311))).toBe(ReasonCode.MalformedPacket);
    expect(reasonOf(() => decodeBytes([0xc0, 1, 0]))).toBe(ReasonCode.MalformedPacket);
  });
});
