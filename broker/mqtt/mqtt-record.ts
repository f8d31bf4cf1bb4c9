import type { RecordHeader, RecordInput } from '../../sdk/record/record.ts';
import type { PublishPacket } from './mqtt-packet.ts';
import type { MqttProperties } from './mqtt-properties.ts';
import { MqttProtocolError, ReasonCode } from './mqtt-reason-code.ts';

/**
 * Headers an MQTT publish carries into its record (MQTT 5 user properties come first, as
 * written, name for name):
 *   mqtt.topic            the MQTT topic the client published to
 *   mqtt.qos              "0", "1" or "2"
 *   content-type          MQTT 5 Content Type
 *   mqtt.payload-format   "utf8" when the Payload Format Indicator is 1 (the payload was checked)
 *   mqtt.expires-at       MQTT 5 Message Expiry as an absolute time (ms since the epoch, decimal)
 *   mqtt.response-topic   MQTT 5 Response Topic
 *   mqtt.correlation-data MQTT 5 Correlation Data (bytes)
 *   mqtt.retain           "1" for a retained message
 */
export const MqttHeader = {
  topic: 'mqtt.topic',
  qos: 'mqtt.qos',
  contentType: 'content-type',
  payloadFormat: 'mqtt.payload-format',
  expiresAt: 'mqtt.expires-at',
  responseTopic: 'mqtt.response-topic',
  correlationData: 'mqtt.correlation-data',
  retain: 'mqtt.retain',
} as const;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function text(value: string): Uint8Array {
  return utf8.encode(value);
}

const QOS_TEXT = [text('0'), text('1'), text('2')] as const;
const UTF8_TEXT = text('utf8');
const RETAIN_TEXT = text('1');

/**
 * The record a PUBLISH becomes, given its MQTT topic and record key as UTF-8 (the caller keeps
 * them encoded per topic: a device publishes to the same topic again and again, and the record
 * only copies them); a payload declared UTF-8 that is not is Payload Format Invalid (§3.3.2.3.2). */
export function publishToRecord(packet: PublishPacket, topic: Uint8Array, key: Uint8Array | null, nowMs: number): RecordInput {
  const p = packet.properties;
  if (p.payloadFormatIndicator === 1) {
    try {
      strictUtf8.decode(packet.payload);
    } catch {
      throw new MqttProtocolError(ReasonCode.PayloadFormatInvalid, 'the payload is declared UTF-8 but is not');
    }
  }
  const headers: RecordHeader[] = [];
  for (const [name, value] of p.userProperties ?? []) headers.push({ key: name, value: text(value) });
  headers.push({ key: MqttHeader.topic, value: topic }, { key: MqttHeader.qos, value: QOS_TEXT[packet.qos] });
  if (p.contentType !== undefined) headers.push({ key: MqttHeader.contentType, value: text(p.contentType) });
  if (p.payloadFormatIndicator === 1) headers.push({ key: MqttHeader.payloadFormat, value: UTF8_TEXT });
  if (p.messageExpiryInterval !== undefined) headers.push({ key: MqttHeader.expiresAt, value: text(String(nowMs + p.messageExpiryInterval * 1000)) });
  if (p.responseTopic !== undefined) headers.push({ key: MqttHeader.responseTopic, value: text(p.responseTopic) });
  if (p.correlationData !== undefined) headers.push({ key: MqttHeader.correlationData, value: p.correlationData });
  if (packet.retain) headers.push({ key: MqttHeader.retain, value: RETAIN_TEXT });
  return { key, value: packet.payload, headers, timestamp: nowMs };
}

const RESERVED: ReadonlySet<string> = new Set(Object.values(MqttHeader));

/**
 * The MQTT 5 properties a delivered record carries back: headers other than the reserved ones as
 * user properties, content type, the remaining expiry, response topic and correlation data.
 */
export function recordToProperties(headers: readonly RecordHeader[], nowMs: number): { properties: MqttProperties; expired: boolean } {
  const properties: MqttProperties = {};
  const user: [string, string][] = [];
  let expired = false;
  for (const h of headers) {
    if (h.value === null) continue;
    const value = (): string => {
      try {
        return strictUtf8.decode(h.value!);
      } catch {
        return '';
      }
    };
    switch (h.key) {
      case MqttHeader.contentType:
        properties.contentType = value();
        break;
      case MqttHeader.payloadFormat:
        properties.payloadFormatIndicator = 1;
        break;
      case MqttHeader.expiresAt: {
        const remainingMs = Number(value()) - nowMs;
        if (remainingMs <= 0) expired = true;
        else properties.messageExpiryInterval = Math.ceil(remainingMs / 1000);
        break;
      }
      case MqttHeader.responseTopic:
        properties.responseTopic = value();
        break;
      case MqttHeader.correlationData:
        properties.correlationData = h.value;
        break;
      default:
        if (!RESERVED.has(h.key) && !h.key.includes('\u0000')) user.push([h.key, value()]);
    }
  }
  if (user.length > 0) properties.userProperties = user;
  return { properties, expired };
}
