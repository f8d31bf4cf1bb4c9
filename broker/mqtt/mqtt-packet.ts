import type { MqttProperties } from './mqtt-properties.ts';

/** Control packet types, the high nibble of the fixed header's first byte. */
export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

export type PacketTypeValue = (typeof PacketType)[keyof typeof PacketType];

/** The protocol level byte of CONNECT: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export const ProtocolVersion = { v311: 4, v5: 5 } as const;
export type ProtocolVersionValue = (typeof ProtocolVersion)[keyof typeof ProtocolVersion];

export type QoS = 0 | 1 | 2;

/** The largest Remaining Length the 4-byte variable byte integer can express (§1.5.5). */
export const MAX_REMAINING_LENGTH = 268_435_455;

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 will properties (will delay, message expiry, content type, user properties...). */
  properties: MqttProperties;
}

export interface ConnectPacket {
  type: typeof PacketType.CONNECT;
  protocolVersion: ProtocolVersionValue;
  cleanStart: boolean;
  keepAliveSeconds: number;
  clientId: string;
  will?: Will;
  username?: string;
  password?: Uint8Array;
  properties: MqttProperties;
}

export interface ConnackPacket {
  type: typeof PacketType.CONNACK;
  sessionPresent: boolean;
  /** A 3.1.1 return code (0-5) or an MQTT 5 reason code. */
  reasonCode: number;
  properties: MqttProperties;
}

export interface PublishPacket {
  type: typeof PacketType.PUBLISH;
  dup: boolean;
  qos: QoS;
  retain: boolean;
  /** Empty in MQTT 5 when a topic alias stands for it. */
  topic: string;
  /** 1-65535 for QoS 1 and 2, absent for QoS 0. */
  packetId?: number;
  properties: MqttProperties;
  payload: Uint8Array;
}

/** PUBACK, PUBREC, PUBREL and PUBCOMP share one shape. */
export interface PubAckLikePacket {
  type: typeof PacketType.PUBACK | typeof PacketType.PUBREC | typeof PacketType.PUBREL | typeof PacketType.PUBCOMP;
  packetId: number;
  reasonCode: number;
  properties: MqttProperties;
}

export interface Subscription {
  topicFilter: string;
  qos: QoS;
  /** MQTT 5: do not send this client's own publications back. */
  noLocal: boolean;
  retainAsPublished: boolean;
  /** 0: send retained at subscribe, 1: only if the subscription is new, 2: never. */
  retainHandling: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: typeof PacketType.SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription[];
  properties: MqttProperties;
}

export interface SubackPacket {
  type: typeof PacketType.SUBACK;
  packetId: number;
  reasonCodes: number[];
  properties: MqttProperties;
}

export interface UnsubscribePacket {
  type: typeof PacketType.UNSUBSCRIBE;
  packetId: number;
  topicFilters: string[];
  properties: MqttProperties;
}

export interface UnsubackPacket {
  type: typeof PacketType.UNSUBACK;
  packetId: number;
  /** MQTT 5 only; empty for 3.1.1. */
  reasonCodes: number[];
  properties: MqttProperties;
}

export interface PingPacket {
  type: typeof PacketType.PINGREQ | typeof PacketType.PINGRESP;
}

export interface DisconnectPacket {
  type: typeof PacketType.DISCONNECT;
  reasonCode: number;
  properties: MqttProperties;
}

export interface AuthPacket {
  type: typeof PacketType.AUTH;
  reasonCode: number;
  properties: MqttProperties;
}

export type MqttPacket =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubAckLikePacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingPacket
  | DisconnectPacket
  | AuthPacket;
