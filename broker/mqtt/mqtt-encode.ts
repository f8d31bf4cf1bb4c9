import { type MqttPacket, PacketType, ProtocolVersion, type ProtocolVersionValue } from './mqtt-packet.ts';
import { encodePropertyBody, writeProperties } from './mqtt-property-codec.ts';
import type { MqttProperties } from './mqtt-properties.ts';
import { MqttWriter } from './mqtt-writer.ts';

function hasProperties(properties: MqttProperties): boolean {
  return encodePropertyBody(properties).length > 0;
}

function fixedFlags(packet: MqttPacket): number {
  switch (packet.type) {
    case PacketType.PUBLISH:
      return (packet.dup ? 0x08 : 0) | (packet.qos << 1) | (packet.retain ? 0x01 : 0);
    case PacketType.PUBREL:
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE:
      return 0b0010;
    default:
      return 0;
  }
}

function writeBody(w: MqttWriter, packet: MqttPacket, version: ProtocolVersionValue): void {
  const v5 = version === ProtocolVersion.v5;
  switch (packet.type) {
    case PacketType.CONNECT: {
      const will = packet.will;
      const flags =
        (packet.cleanStart ? 0x02 : 0) |
        (will === undefined ? 0 : 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0)) |
        (packet.password === undefined ? 0 : 0x40) |
        (packet.username === undefined ? 0 : 0x80);
      w.utf8('MQTT').byte(packet.protocolVersion).byte(flags).u16(packet.keepAliveSeconds);
      const connectV5 = packet.protocolVersion === ProtocolVersion.v5;
      if (connectV5) writeProperties(w, packet.properties);
      w.utf8(packet.clientId);
      if (will !== undefined) {
        if (connectV5) writeProperties(w, will.properties);
        w.utf8(will.topic).binary(will.payload);
      }
      if (packet.username !== undefined) w.utf8(packet.username);
      if (packet.password !== undefined) w.binary(packet.password);
      return;
    }
    case PacketType.CONNACK:
      w.byte(packet.sessionPresent ? 1 : 0).byte(packet.reasonCode);
      if (v5) writeProperties(w, packet.properties);
      return;
    case PacketType.PUBLISH:
      w.utf8(packet.topic);
      if (packet.qos > 0) {
        if (packet.packetId === undefined) throw new Error('invariant: a QoS 1 or 2 PUBLISH needs a packet id');
        w.u16(packet.packetId);
      }
      if (v5) writeProperties(w, packet.properties);
      w.bytes(packet.payload);
      return;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      w.u16(packet.packetId);
      if (!v5) return;
      // The shortest form §3.4.2.1 allows: no reason code for Success without properties.
      if (hasProperties(packet.properties)) writeProperties(w.byte(packet.reasonCode), packet.properties);
      else if (packet.reasonCode !== 0) w.byte(packet.reasonCode);
      return;
    case PacketType.SUBSCRIBE:
      w.u16(packet.packetId);
      if (v5) writeProperties(w, packet.properties);
      for (const s of packet.subscriptions) {
        w.utf8(s.topicFilter).byte(s.qos | (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (s.retainHandling << 4));
      }
      return;
    case PacketType.SUBACK:
      w.u16(packet.packetId);
      if (v5) writeProperties(w, packet.properties);
      for (const code of packet.reasonCodes) w.byte(code);
      return;
    case PacketType.UNSUBSCRIBE:
      w.u16(packet.packetId);
      if (v5) writeProperties(w, packet.properties);
      for (const filter of packet.topicFilters) w.utf8(filter);
      return;
    case PacketType.UNSUBACK:
      w.u16(packet.packetId);
      if (!v5) return;
      writeProperties(w, packet.properties);
      for (const code of packet.reasonCodes) w.byte(code);
      return;
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return;
    case PacketType.DISCONNECT:
    case PacketType.AUTH:
      if (!v5) return;
      if (hasProperties(packet.properties)) writeProperties(w.byte(packet.reasonCode), packet.properties);
      else if (packet.reasonCode !== 0 || packet.type === PacketType.AUTH) w.byte(packet.reasonCode);
      return;
  }
}

function isEmpty(properties: MqttProperties): boolean {
  for (const _ in properties) return false;
  return true;
}

/** Appends one control packet, fixed header included, for a connection speaking `version`. */
export function writePacket(out: MqttWriter, packet: MqttPacket, version: ProtocolVersionValue): void {
  const first = (packet.type << 4) | fixedFlags(packet);
  // The acknowledgement of every QoS 1 and 2 message: a success without properties is four bytes
  // in both versions (§3.4.2.1), written without building a body first.
  if (
    (packet.type === PacketType.PUBACK || packet.type === PacketType.PUBREC || packet.type === PacketType.PUBREL || packet.type === PacketType.PUBCOMP) &&
    packet.reasonCode === 0 &&
    isEmpty(packet.properties)
  ) {
    out.byte(first).byte(2).u16(packet.packetId);
    return;
  }
  const body = new MqttWriter();
  writeBody(body, packet, version);
  const bytes = body.finish();
  out.byte(first).varint(bytes.length).bytes(bytes);
}

/** Encodes one control packet, fixed header included, for a connection speaking `version`. */
export function encodePacket(packet: MqttPacket, version: ProtocolVersionValue): Uint8Array {
  const out = new MqttWriter();
  writePacket(out, packet, version);
  return out.finish();
}
