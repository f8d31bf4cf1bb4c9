import type { Broker } from '../broker.ts';
import { InternalTopic } from '../http/internal-topic.ts';
import { INTERNAL_TOPIC_CONFIG } from '../internal-topics.ts';
import type { QoS } from './mqtt-packet.ts';
import type { MqttProperties } from './mqtt-properties.ts';
import { topicMatches } from './mqtt-topic-filter.ts';

export const MQTT_RETAINED_TOPIC = '__mqtt_retained';

/** A retained message as stored: msgpack `{ payload, qos, properties }` under its MQTT topic in `__mqtt_retained` (compacted). */
export interface RetainedMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  properties: MqttProperties;
  /** When the message expires (ms since the epoch), from its Message Expiry Interval. */
  expiresAtMs?: number;
}

/**
 * Retained messages (§3.3.1.3), one per MQTT topic: the last retained PUBLISH, replaced by the
 * next and deleted by an empty one. Kept in memory (at most `maxMessages`) and in a compacted
 * internal topic, so they survive restarts.
 */
export class MqttRetainedStore {
  private constructor(
    private readonly topic: InternalTopic,
    private readonly messages: Map<string, RetainedMessage>,
    private readonly maxMessages: number,
  ) {}

  static async open(broker: Broker, maxMessages: number): Promise<MqttRetainedStore> {
    const topic = await InternalTopic.open(broker, MQTT_RETAINED_TOPIC, INTERNAL_TOPIC_CONFIG);
    await broker.internalTopics.create(MQTT_RETAINED_TOPIC, { partitions: 1, config: INTERNAL_TOPIC_CONFIG });
    const messages = new Map<string, RetainedMessage>();
    await topic.replay(
      (key, value) => messages.set(key, value as RetainedMessage),
      (key) => messages.delete(key),
    );
    return new MqttRetainedStore(topic, messages, maxMessages);
  }

  get size(): number {
    return this.messages.size;
  }

  /** Stores (or, for an empty payload, deletes) the retained message of a topic; resolves once durable. Returns false when the store is full. */
  async retain(message: RetainedMessage): Promise<boolean> {
    if (message.payload.length === 0) {
      if (!this.messages.delete(message.topic)) return true;
      await this.topic.append([{ key: message.topic, value: null }]);
      return true;
    }
    if (!this.messages.has(message.topic) && this.messages.size >= this.maxMessages) return false;
    this.messages.set(message.topic, message);
    await this.topic.append([{ key: message.topic, value: message }]);
    return true;
  }

  /** The unexpired retained messages whose topic matches `filter`. */
  matching(filter: string, nowMs: number): RetainedMessage[] {
    const out: RetainedMessage[] = [];
    for (const message of this.messages.values()) {
      if (message.expiresAtMs !== undefined && message.expiresAtMs <= nowMs) continue;
      if (topicMatches(filter, message.topic)) out.push(message);
    }
    return out;
  }
}
