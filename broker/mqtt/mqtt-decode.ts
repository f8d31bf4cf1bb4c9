import {
  type ConnectPacket,
  type MqttPacket,
  PacketType,
  ProtocolVersion,
  type ProtocolVersionValue,
  type QoS,
  type Subscription,
  type Will,
} from './mqtt-packet.ts';
import { readProperties } from './mqtt-property-codec.ts';
import type { MqttProperties } from './mqtt-properties.ts';
import { WILL } from './mqtt-properties.ts';
import { malformed, MqttProtocolError, protocolError, ReasonCode } from './mqtt-reason-code.ts';
import { MqttReader } from './mqtt-reader.ts';

const NO_PROPERTIES: MqttProperties = Object.freeze({});

/** Fixed-header flag bits each packet type must carry (§2.1.3); PUBLISH's are free. */
const REQUIRED_FLAGS: readonly number[] = [-1, 0, 0, -1, 0, 0, 0b0010, 0, 0b0010, 0, 0b0010, 0, 0, 0, 0, 0];

/**
 * CONNECT's protocol name and level, read before the version is known. An unknown level is
 * UnsupportedProtocolVersion so the caller can answer CONNACK with it (§3.1.2.2) rather than a
 * bare close.
 */
function readConnect(reader: MqttReader): ConnectPacket {
  const name = reader.utf8('protocol name');
  const level = reader.byte('protocol level');
  if (name !== 'MQTT' && name !== 'MQIsdp') throw protocolError(`protocol name "${name}" is not MQTT`);
  if (name === 'MQIsdp' || (level !== ProtocolVersion.v311 && level !== ProtocolVersion.v5)) {
    throw new MqttProtocolError(ReasonCode.UnsupportedProtocolVersion, `protocol level ${level} is not supported (MQTT 3.1.1 or 5.0)`);
  }
  const version = level as ProtocolVersionValue;
  const flags = reader.byte('connect flags');
  if ((flags & 0x01) !== 0) throw malformed('the reserved connect flag is set');
  const cleanStart = (flags & 0x02) !== 0;
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  const passwordFlag = (flags & 0x40) !== 0;
  const usernameFlag = (flags & 0x80) !== 0;
  if (willQos === 3) throw malformed('will QoS is 3');
  if (!willFlag && (willQos !== 0 || willRetain)) throw malformed('will QoS or retain set without a will');
  if (version === ProtocolVersion.v311 && passwordFlag && !usernameFlag) throw protocolError('a password without a user name');
  const keepAliveSeconds = reader.u16('keep alive');
  const properties = version === ProtocolVersion.v5 ? readProperties(reader, PacketType.CONNECT) : NO_PROPERTIES;
  const clientId = reader.utf8('client identifier');
  let will: Will | undefined;
  if (willFlag) {
    const willProperties = version === ProtocolVersion.v5 ? readProperties(reader, WILL) : NO_PROPERTIES;
    const topic = reader.utf8('will topic');
    assertTopicName(topic, 'will topic');
    will = { topic, payload: reader.binary('will payload'), qos: willQos as QoS, retain: willRetain, properties: willProperties };
  }
  const username = usernameFlag ? reader.utf8('user name') : undefined;
  const password = passwordFlag ? reader.binary('password') : undefined;
  reader.expectEnd('CONNECT');
  return {
    type: PacketType.CONNECT,
    protocolVersion: version,
    cleanStart,
    keepAliveSeconds,
    clientId,
    ...(will === undefined ? {} : { will }),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    properties,
  };
}

/** A PUBLISH topic name: not empty (unless an alias stands for it), no wildcards (§4.7.3). */
export function assertTopicName(topic: string, what = 'topic name'): void {
  if (topic.includes('+') || topic.includes('#')) throw new MqttProtocolError(ReasonCode.TopicNameInvalid, `${what} "${topic}" contains a wildcard`);
}

function packetId(reader: MqttReader): number {
  const id = reader.u16('packet identifier');
  if (id === 0) throw malformed('packet identifier 0');
  return id;
}

function qosOf(value: number, what: string): QoS {
  if (value > 2) throw malformed(`${what} QoS ${value}`);
  return value as QoS;
}

/**
 * Decodes one control packet from its fixed header's first byte and its body (the Remaining
 * Length bytes). `version` is the connection's negotiated protocol (CONNECT carries its own).
 * Throws MqttProtocolError with the reason code the connection must close with.
 */
export function decodePacket(first: number, body: Uint8Array, version: ProtocolVersionValue): MqttPacket {
  const type = first >> 4;
  const flags = first & 0x0f;
  if (type === 0) throw malformed('packet type 0 is reserved');
  if (type === PacketType.AUTH && version !== ProtocolVersion.v5) throw malformed('AUTH is an MQTT 5 packet');
  const required = REQUIRED_FLAGS[type]!;
  if (required >= 0 && flags !== required) throw malformed(`packet type ${type} has flags 0x${flags.toString(16)}`);
  const reader = new MqttReader(body);
  const v5 = version === ProtocolVersion.v5;
  switch (type) {
    case PacketType.CONNECT:
      return readConnect(reader);
    case PacketType.CONNACK: {
      const ackFlags = reader.byte('acknowledge flags');
      if ((ackFlags & 0xfe) !== 0) throw malformed('reserved CONNACK flags set');
      const reasonCode = reader.byte('reason code');
      const properties = v5 ? readProperties(reader, PacketType.CONNACK) : NO_PROPERTIES;
      reader.expectEnd('CONNACK');
      return { type, sessionPresent: (ackFlags & 1) === 1, reasonCode, properties };
    }
    case PacketType.PUBLISH: {
      const qos = qosOf((flags >> 1) & 0x03, 'PUBLISH');
      const dup = (flags & 0x08) !== 0;
      if (qos === 0 && dup) throw malformed('DUP set on a QoS 0 PUBLISH');
      const topic = reader.utf8('topic name');
      assertTopicName(topic);
      const id = qos > 0 ? packetId(reader) : undefined;
      const properties = v5 ? readProperties(reader, PacketType.PUBLISH) : NO_PROPERTIES;
      if (topic === '' && properties.topicAlias === undefined) throw new MqttProtocolError(ReasonCode.TopicNameInvalid, 'empty topic name without a topic alias');
      return {
        type,
        dup,
        qos,
        retain: (flags & 0x01) !== 0,
        topic,
        ...(id === undefined ? {} : { packetId: id }),
        properties,
        payload: reader.rest(),
      };
    }
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP: {
      const id = packetId(reader);
      // MQTT 5 lets the reason code and then the properties be left out (§3.4.2.1).
      const reasonCode = v5 && reader.remaining > 0 ? reader.byte('reason code') : ReasonCode.Success;
      const properties = v5 && reader.remaining > 0 ? readProperties(reader, type) : NO_PROPERTIES;
      reader.expectEnd('acknowledgement');
      return { type, packetId: id, reasonCode, properties };
    }
    case PacketType.SUBSCRIBE: {
      const id = packetId(reader);
      const properties = v5 ? readProperties(reader, PacketType.SUBSCRIBE) : NO_PROPERTIES;
      const subscriptions: Subscription[] = [];
      while (reader.remaining > 0) {
        const topicFilter = reader.utf8('topic filter');
        const options = reader.byte('subscription options');
        if ((options & (v5 ? 0xc0 : 0xfc)) !== 0) throw malformed('reserved subscription option bits set');
        const retainHandling = (options >> 4) & 0x03;
        if (retainHandling === 3) throw protocolError('retain handling 3');
        subscriptions.push({
          topicFilter,
          qos: qosOf(options & 0x03, 'subscription'),
          noLocal: (options & 0x04) !== 0,
          retainAsPublished: (options & 0x08) !== 0,
          retainHandling: retainHandling as 0 | 1 | 2,
        });
      }
      if (subscriptions.length === 0) throw protocolError('SUBSCRIBE without a topic filter');
      return { type, packetId: id, subscriptions, properties };
    }
    case PacketType.SUBACK: {
      const id = packetId(reader);
      const properties = v5 ? readProperties(reader, PacketType.SUBACK) : NO_PROPERTIES;
      const reasonCodes: number[] = [];
      while (reader.remaining > 0) reasonCodes.push(reader.byte('reason code'));
      return { type, packetId: id, reasonCodes, properties };
    }
    case PacketType.UNSUBSCRIBE: {
      const id = packetId(reader);
      const properties = v5 ? readProperties(reader, PacketType.UNSUBSCRIBE) : NO_PROPERTIES;
      const topicFilters: string[] = [];
      while (reader.remaining > 0) topicFilters.push(reader.utf8('topic filter'));
      if (topicFilters.length === 0) throw protocolError('UNSUBSCRIBE without a topic filter');
      return { type, packetId: id, topicFilters, properties };
    }
    case PacketType.UNSUBACK: {
      const id = packetId(reader);
      const properties = v5 ? readProperties(reader, PacketType.UNSUBACK) : NO_PROPERTIES;
      const reasonCodes: number[] = [];
      while (v5 && reader.remaining > 0) reasonCodes.push(reader.byte('reason code'));
      reader.expectEnd('UNSUBACK');
      return { type, packetId: id, reasonCodes, properties };
    }
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      reader.expectEnd('PING');
      return { type };
    case PacketType.DISCONNECT:
    case PacketType.AUTH: {
      const reasonCode = v5 && reader.remaining > 0 ? reader.byte('reason code') : ReasonCode.Success;
      const properties = v5 && reader.remaining > 0 ? readProperties(reader, type) : NO_PROPERTIES;
      reader.expectEnd(type === PacketType.AUTH ? 'AUTH' : 'DISCONNECT');
      return { type, reasonCode, properties };
    }
    default:
      throw new Error(`invariant: packet type ${type} has no decoder`);
  }
}
