import type { Broker } from '../broker.ts';
import { InternalTopic } from '../http/internal-topic.ts';
import { INTERNAL_TOPIC_CONFIG } from '../internal-topics.ts';
import type { Subscription } from './mqtt-packet.ts';

export const MQTT_SESSIONS_TOPIC = '__mqtt_sessions';

/** Where a QoS 2 PUBLISH of a session goes: its log partition and the idempotent sequence it is appended with. */
export type Qos2Intent = [topic: string, partition: number, sequence: number];

/**
 * A QoS 1 or 2 message the session's own subscriptions sent and the client has not acknowledged:
 * the log record it carries, its QoS, its RETAIN flag, and whether PUBREC came (so PUBREL went).
 */
export type OutboundIntent = [topic: string, partition: number, offset: number, qos: 1 | 2, retain: 0 | 1, released: 0 | 1];

/**
 * A session's durable state, one msgpack record per client id in `__mqtt_sessions` (compacted; a
 * tombstone ends the session). Written before each step that must survive a crash:
 *   producerId/producerEpoch  the idempotent producer the session appends its QoS 2 messages as
 *   pendingQos2               per packet id, the QoS 2 messages received and not yet released
 *                             (PUBREL): where each goes and with which sequence. Written before
 *                             the append, so after a crash the partition's producer state (rebuilt
 *                             from the log) tells whether that sequence made it: appended once.
 *   subscriptions             the session's subscriptions
 *   positions                 per `<topic>/<partition>`, the next offset to deliver
 *   outbound                  per packet id, the messages sent from the log and not yet
 *                             acknowledged (positions are past them): a client that comes back
 *                             to the session gets them again with their packet ids (§4.4), PUBREL
 *                             for those it PUBRECed. Written with the positions, so every state
 *                             written has each message either ahead of its position or here; and
 *                             written before a QoS 2 message goes out and before its PUBREL, so
 *                             a crash never turns one into a new message (mqtt-delivery.ts).
 *   expiryIntervalSec         the session expiry; disconnectedAtMs when the client left
 */
export interface StoredSession {
  clientId: string;
  producerId: number;
  producerEpoch: number;
  pendingQos2: Record<string, Qos2Intent>;
  subscriptions: Subscription[];
  positions: Record<string, number>;
  /** Absent in sessions stored before it existed. */
  outbound?: Record<string, OutboundIntent>;
  expiryIntervalSec: number;
  disconnectedAtMs?: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** Persistent MQTT sessions over `__mqtt_sessions`: loaded once when the listener starts, written through. */
export class MqttSessionStore {
  private constructor(
    private readonly topic: InternalTopic,
    private readonly sessions: Map<string, StoredSession>,
  ) {}

  static async open(broker: Broker, nowMs: number): Promise<MqttSessionStore> {
    const topic = await InternalTopic.open(broker, MQTT_SESSIONS_TOPIC, INTERNAL_TOPIC_CONFIG);
    // Created up front, so concurrent first writes cannot race its creation.
    await broker.internalTopics.create(MQTT_SESSIONS_TOPIC, { partitions: 1, config: INTERNAL_TOPIC_CONFIG });
    const sessions = new Map<string, StoredSession>();
    await topic.replay(
      (key, value) => sessions.set(key, value as StoredSession),
      (key) => sessions.delete(key),
    );
    const store = new MqttSessionStore(topic, sessions);
    for (const session of [...sessions.values()]) if (store.isExpired(session, nowMs)) await store.remove(session.clientId);
    return store;
  }

  get size(): number {
    return this.sessions.size;
  }

  isExpired(session: StoredSession, nowMs: number): boolean {
    return session.disconnectedAtMs !== undefined && session.expiryIntervalSec !== 0xffff_ffff && session.disconnectedAtMs + session.expiryIntervalSec * 1000 <= nowMs;
  }

  get(clientId: string): StoredSession | undefined {
    return this.sessions.get(clientId);
  }

  /** Resolves once the session's state is fsynced. */
  async put(session: StoredSession): Promise<void> {
    this.sessions.set(session.clientId, session);
    await this.topic.append([{ key: session.clientId, value: session }]);
  }

  async remove(clientId: string): Promise<void> {
    if (!this.sessions.delete(clientId)) return;
    await this.topic.append([{ key: clientId, value: null }]);
  }

  /** Sessions whose expiry has passed since their client left. */
  expired(nowMs: number): string[] {
    return [...this.sessions.values()].filter((s) => this.isExpired(s, nowMs)).map((s) => s.clientId);
  }
}
