import { PacketType, type PacketTypeValue } from './mqtt-packet.ts';

/** MQTT 5 properties (§2.2.2.2) by name; absent fields were not sent. */
export interface MqttProperties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** Repeatable in PUBLISH (one per matching subscription); at most one in SUBSCRIBE. */
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: number;
  /** Name/value pairs in order; names may repeat. */
  userProperties?: [string, string][];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifierAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export type PropertyName = keyof MqttProperties;
export type PropertyEncoding = 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair';

/** Where a property may appear: a packet type, or `WILL` for the will properties of CONNECT. */
export const WILL = 0;
export type PropertyContext = PacketTypeValue | typeof WILL;

export interface PropertyDefinition {
  id: number;
  name: PropertyName;
  encoding: PropertyEncoding;
  contexts: readonly PropertyContext[];
  /** A byte property's allowed values (Protocol Error outside them). */
  booleanByte?: true;
  /** Zero is a Protocol Error (Receive Maximum, Maximum Packet Size, Topic Alias, Subscription Identifier). */
  nonZero?: true;
}

const P = PacketType;
const ACKS = [P.PUBACK, P.PUBREC, P.PUBREL, P.PUBCOMP, P.SUBACK, P.UNSUBACK] as const;
const ALL = [P.CONNECT, P.CONNACK, P.PUBLISH, ...ACKS, P.SUBSCRIBE, P.UNSUBSCRIBE, P.DISCONNECT, P.AUTH, WILL] as const;

/** The property table of §2.2.2.2: identifier, type and the packets that may carry it. */
export const PROPERTY_DEFINITIONS: readonly PropertyDefinition[] = [
  { id: 0x01, name: 'payloadFormatIndicator', encoding: 'byte', contexts: [P.PUBLISH, WILL], booleanByte: true },
  { id: 0x02, name: 'messageExpiryInterval', encoding: 'u32', contexts: [P.PUBLISH, WILL] },
  { id: 0x03, name: 'contentType', encoding: 'utf8', contexts: [P.PUBLISH, WILL] },
  { id: 0x08, name: 'responseTopic', encoding: 'utf8', contexts: [P.PUBLISH, WILL] },
  { id: 0x09, name: 'correlationData', encoding: 'binary', contexts: [P.PUBLISH, WILL] },
  { id: 0x0b, name: 'subscriptionIdentifiers', encoding: 'varint', contexts: [P.PUBLISH, P.SUBSCRIBE], nonZero: true },
  { id: 0x11, name: 'sessionExpiryInterval', encoding: 'u32', contexts: [P.CONNECT, P.CONNACK, P.DISCONNECT] },
  { id: 0x12, name: 'assignedClientIdentifier', encoding: 'utf8', contexts: [P.CONNACK] },
  { id: 0x13, name: 'serverKeepAlive', encoding: 'u16', contexts: [P.CONNACK] },
  { id: 0x15, name: 'authenticationMethod', encoding: 'utf8', contexts: [P.CONNECT, P.CONNACK, P.AUTH] },
  { id: 0x16, name: 'authenticationData', encoding: 'binary', contexts: [P.CONNECT, P.CONNACK, P.AUTH] },
  { id: 0x17, name: 'requestProblemInformation', encoding: 'byte', contexts: [P.CONNECT], booleanByte: true },
  { id: 0x18, name: 'willDelayInterval', encoding: 'u32', contexts: [WILL] },
  { id: 0x19, name: 'requestResponseInformation', encoding: 'byte', contexts: [P.CONNECT], booleanByte: true },
  { id: 0x1a, name: 'responseInformation', encoding: 'utf8', contexts: [P.CONNACK] },
  { id: 0x1c, name: 'serverReference', encoding: 'utf8', contexts: [P.CONNACK, P.DISCONNECT] },
  { id: 0x1f, name: 'reasonString', encoding: 'utf8', contexts: [P.CONNACK, ...ACKS, P.DISCONNECT, P.AUTH] },
  { id: 0x21, name: 'receiveMaximum', encoding: 'u16', contexts: [P.CONNECT, P.CONNACK], nonZero: true },
  { id: 0x22, name: 'topicAliasMaximum', encoding: 'u16', contexts: [P.CONNECT, P.CONNACK] },
  { id: 0x23, name: 'topicAlias', encoding: 'u16', contexts: [P.PUBLISH], nonZero: true },
  { id: 0x24, name: 'maximumQoS', encoding: 'byte', contexts: [P.CONNACK], booleanByte: true },
  { id: 0x25, name: 'retainAvailable', encoding: 'byte', contexts: [P.CONNACK], booleanByte: true },
  { id: 0x26, name: 'userProperties', encoding: 'pair', contexts: ALL },
  { id: 0x27, name: 'maximumPacketSize', encoding: 'u32', contexts: [P.CONNECT, P.CONNACK], nonZero: true },
  { id: 0x28, name: 'wildcardSubscriptionAvailable', encoding: 'byte', contexts: [P.CONNACK], booleanByte: true },
  { id: 0x29, name: 'subscriptionIdentifierAvailable', encoding: 'byte', contexts: [P.CONNACK], booleanByte: true },
  { id: 0x2a, name: 'sharedSubscriptionAvailable', encoding: 'byte', contexts: [P.CONNACK], booleanByte: true },
];

export const PROPERTY_BY_ID: ReadonlyMap<number, PropertyDefinition> = new Map(PROPERTY_DEFINITIONS.map((d) => [d.id, d]));
export const PROPERTY_BY_NAME: ReadonlyMap<PropertyName, PropertyDefinition> = new Map(PROPERTY_DEFINITIONS.map((d) => [d.name, d]));

/** Properties that may appear more than once in one packet (§2.2.2.2: the others are a Protocol Error if repeated). */
export function isRepeatable(definition: PropertyDefinition, context: PropertyContext): boolean {
  return definition.name === 'userProperties' || (definition.name === 'subscriptionIdentifiers' && context === PacketType.PUBLISH);
}
