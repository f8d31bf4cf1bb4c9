import fc from 'fast-check';
import { type MqttPacket, PacketType, ProtocolVersion, type ProtocolVersionValue, type QoS } from '../../broker/mqtt/mqtt-packet.ts';
import { type MqttProperties, PROPERTY_DEFINITIONS, type PropertyContext, type PropertyDefinition, WILL } from '../../broker/mqtt/mqtt-properties.ts';

/** Strings MQTT can carry: well-formed UTF-8 without U+0000, short enough for a 16-bit length. */
export const mqttString = (maxLength = 20): fc.Arbitrary<string> =>
  fc.string({ maxLength, unit: 'grapheme' }).filter((s) => !s.includes('\u0000'));

const topicName = fc.array(fc.string({ maxLength: 6, unit: 'grapheme-ascii' }).map((s) => s.replace(/[+#/\u0000]/g, '')), { minLength: 1, maxLength: 4 }).map((levels) => levels.join('/') || 't');
const topicFilter = fc.array(fc.oneof(fc.constant('+'), fc.string({ maxLength: 5, unit: 'grapheme-ascii' }).map((s) => s.replace(/[+#/\u0000]/g, '') || 'x')), { minLength: 1, maxLength: 4 })
  .chain((levels) => fc.boolean().map((hash) => (hash ? [...levels, '#'] : levels).join('/')));
const bytes = (maxLength = 32): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
const qos: fc.Arbitrary<QoS> = fc.constantFrom(0, 1, 2);
const packetId = fc.integer({ min: 1, max: 0xffff });

function valueOf(definition: PropertyDefinition, context: PropertyContext): fc.Arbitrary<unknown> {
  const low = definition.nonZero === true ? 1 : 0;
  switch (definition.encoding) {
    case 'byte':
      return definition.booleanByte === true ? fc.constantFrom(0, 1) : fc.integer({ min: 0, max: 255 });
    case 'u16':
      return fc.integer({ min: low, max: 0xffff });
    case 'u32':
      return fc.integer({ min: low, max: 0xffff_ffff });
    case 'varint':
      return fc.array(fc.integer({ min: 1, max: 268_435_455 }), { minLength: 1, maxLength: context === PacketType.PUBLISH ? 3 : 1 });
    case 'utf8':
      return mqttString();
    case 'binary':
      return bytes();
    case 'pair':
      return fc.array(fc.tuple(mqttString(8), mqttString(8)), { minLength: 1, maxLength: 3 });
  }
}

/** Any valid MQTT 5 property set for `context`. */
export function propertiesFor(context: PropertyContext): fc.Arbitrary<MqttProperties> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const definition of PROPERTY_DEFINITIONS) if (definition.contexts.includes(context)) record[definition.name] = valueOf(definition, context);
  return fc.record(record, { requiredKeys: [] }) as fc.Arbitrary<MqttProperties>;
}

const noProperties = fc.constant<MqttProperties>({});

/** Any valid packet of `version`, in the shape the decoder returns. */
export function packetArbitrary(version: ProtocolVersionValue): fc.Arbitrary<MqttPacket> {
  const v5 = version === ProtocolVersion.v5;
  const props = (context: PropertyContext): fc.Arbitrary<MqttProperties> => (v5 ? propertiesFor(context) : noProperties);
  const reason = v5 ? fc.integer({ min: 0, max: 255 }) : fc.constant(0);
  const will = fc.record({ topic: topicName, payload: bytes(), qos, retain: fc.boolean(), properties: props(WILL) });
  const connect = fc
    .record({
      cleanStart: fc.boolean(),
      keepAliveSeconds: fc.integer({ min: 0, max: 0xffff }),
      clientId: mqttString(23),
      will: fc.option(will, { nil: undefined }),
      username: fc.option(mqttString(), { nil: undefined }),
      password: fc.option(bytes(), { nil: undefined }),
      properties: props(PacketType.CONNECT),
    })
    .map(({ will: w, username, password, ...rest }) => ({
      type: PacketType.CONNECT,
      protocolVersion: version,
      ...rest,
      ...(w === undefined ? {} : { will: w }),
      // 3.1.1 forbids a password without a user name.
      ...(username === undefined && (password === undefined || v5) ? {} : { username: username ?? 'u' }),
      ...(password === undefined ? {} : { password }),
    }));
  const publish = fc.record({ qos, dup: fc.boolean(), retain: fc.boolean(), topic: topicName, packetId, properties: props(PacketType.PUBLISH), payload: bytes(64) }).map(
    ({ qos: q, dup, packetId: id, ...rest }) => ({ type: PacketType.PUBLISH, qos: q, dup: q > 0 && dup, ...rest, ...(q > 0 ? { packetId: id } : {}) }),
  );
  const ackLike = fc
    .record({ type: fc.constantFrom(PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBREL, PacketType.PUBCOMP), packetId, reasonCode: reason })
    .chain((p) => props(p.type).map((properties) => ({ ...p, properties })));
  const subscription = fc.record({
    topicFilter,
    qos,
    noLocal: v5 ? fc.boolean() : fc.constant(false),
    retainAsPublished: v5 ? fc.boolean() : fc.constant(false),
    retainHandling: v5 ? fc.constantFrom(0 as const, 1 as const, 2 as const) : fc.constant(0 as const),
  });
  const subscribe = fc.record({ type: fc.constant(PacketType.SUBSCRIBE), packetId, subscriptions: fc.array(subscription, { minLength: 1, maxLength: 4 }), properties: props(PacketType.SUBSCRIBE) });
  const suback = fc.record({ type: fc.constant(PacketType.SUBACK), packetId, reasonCodes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }), properties: props(PacketType.SUBACK) });
  const unsubscribe = fc.record({ type: fc.constant(PacketType.UNSUBSCRIBE), packetId, topicFilters: fc.array(topicFilter, { minLength: 1, maxLength: 4 }), properties: props(PacketType.UNSUBSCRIBE) });
  const unsuback = fc.record({
    type: fc.constant(PacketType.UNSUBACK),
    packetId,
    reasonCodes: v5 ? fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }) : fc.constant([]),
    properties: props(PacketType.UNSUBACK),
  });
  const connack = fc.record({ type: fc.constant(PacketType.CONNACK), sessionPresent: fc.boolean(), reasonCode: fc.integer({ min: 0, max: 255 }), properties: props(PacketType.CONNACK) });
  const ping = fc.record({ type: fc.constantFrom(PacketType.PINGREQ, PacketType.PINGRESP) });
  const disconnect = fc.record({ type: fc.constant(PacketType.DISCONNECT), reasonCode: reason, properties: props(PacketType.DISCONNECT) });
  const all: fc.Arbitrary<MqttPacket>[] = [connect, connack, publish, ackLike, subscribe, suback, unsubscribe, unsuback, ping, disconnect] as fc.Arbitrary<MqttPacket>[];
  if (v5) all.push(fc.record({ type: fc.constant(PacketType.AUTH), reasonCode: reason, properties: props(PacketType.AUTH) }) as fc.Arbitrary<MqttPacket>);
  return fc.oneof(...all);
}
