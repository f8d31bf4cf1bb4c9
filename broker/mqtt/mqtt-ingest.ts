import { murmur2 } from '../../sdk/client/producer/partitioner.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import type { RecordInput } from '../../sdk/record/record.ts';
import type { Broker } from '../broker.ts';
import { Acks } from '../log/acks.ts';
import type { PublishPacket } from './mqtt-packet.ts';
import { MqttProtocolError, ReasonCode } from './mqtt-reason-code.ts';
import { publishToRecord } from './mqtt-record.ts';
import { mapTopic, type MqttMappingRule } from './mqtt-topic-mapping.ts';
import type { MqttPrincipal } from './mqtt-auth.ts';
import { type AppendWaiter, MqttBatchAppender } from './mqtt-batch-appender.ts';

export interface IngestTarget {
  topic: string;
  partition: number;
  record: RecordInput;
  /** The MQTT topic (after alias resolution) and packet, for the retained store. */
  mqttTopic: string;
  packet: PublishPacket;
}

const utf8 = new TextEncoder();

/** MQTT topics whose mapping is kept; past it the cache starts over (a fleet's topics repeat). */
const MAPPING_CACHE_ENTRIES = 4096;
/** Longer topics are mapped per message: with the entry bound, the cache holds a few MB at most, however long the topics a client sends. */
const MAPPING_CACHE_TOPIC_CHARS = 256;

/** An MQTT topic's log topic and key, encoded once: the record shares these bytes, never writes them. */
interface MappedPublish {
  topic: string;
  keyBytes: Uint8Array | null;
  /** Kafka's default partitioner's hash of the key (murmur2, positive); undefined for no key. */
  keyHash: number | undefined;
  mqttTopicBytes: Uint8Array;
}

/**
 * Turns PUBLISH packets into appends: maps the MQTT topic to a log topic and key, checks Write
 * access, creates the topic when the broker auto-creates topics, picks the partition as Kafka's
 * default partitioner does for the key (so an MQTT device and a Kafka producer writing the same
 * key share a partition), and appends with the durability each QoS needs.
 */
export class MqttIngest {
  private roundRobin = 0;
  private readonly batches: MqttBatchAppender;
  private readonly mappings = new Map<string, MappedPublish>();

  constructor(
    private readonly broker: Broker,
    private readonly rules: readonly MqttMappingRule[],
    private readonly nowMs: () => number = Date.now,
    /** Stores a retained PUBLISH once its record is durable; resolves once the retained store is durable too. */
    private readonly retain: (packet: PublishPacket, mqttTopic: string) => Promise<unknown> = async () => undefined,
    /** Told when a publish created its log topic, so subscribers start reading it at once. */
    private readonly topicCreated: (topic: string) => void = () => undefined,
  ) {
    this.batches = new MqttBatchAppender(broker);
  }

  /** Where a PUBLISH goes and the record it becomes; rejects with MqttProtocolError with the PUBACK/PUBREC reason code. */
  async target(packet: PublishPacket, topic: string, principal: MqttPrincipal): Promise<IngestTarget> {
    const now = this.targetNow(packet, topic, principal);
    if (now !== undefined) return now;
    const mapped = this.mapped(topic)!;
    if (!this.broker.config.autoCreateTopics) throw new MqttProtocolError(ReasonCode.TopicNameInvalid, `topic "${mapped.topic}" does not exist`);
    await this.broker.createTopic(mapped.topic).then(
      () => this.topicCreated(mapped.topic),
      (error: unknown) => {
        // The broker's partition limit: answered with Quota exceeded, like any limit (§3.4.2.1).
        if (error instanceof KafkaError && error.errorName === 'POLICY_VIOLATION') throw new MqttProtocolError(ReasonCode.QuotaExceeded, error.message);
        if (!(error instanceof KafkaError && error.errorName === 'TOPIC_ALREADY_EXISTS')) throw error;
      },
    );
    return this.targetOf(packet, topic, mapped);
  }

  /**
   * `target` without a promise when the log topic exists (every PUBLISH but a topic's first);
   * undefined when it has to be created. Throws MqttProtocolError like `target` rejects.
   */
  targetNow(packet: PublishPacket, topic: string, principal: MqttPrincipal): IngestTarget | undefined {
    const mapped = this.mapped(topic);
    if (mapped === undefined) throw new MqttProtocolError(ReasonCode.TopicNameInvalid, `MQTT topic "${topic}" maps to no valid log topic`);
    if (!principal.mayWrite(mapped.topic)) throw new MqttProtocolError(ReasonCode.NotAuthorized, `${principal.name} may not write to topic "${mapped.topic}"`);
    return this.broker.hasTopic(mapped.topic) ? this.targetOf(packet, topic, mapped) : undefined;
  }

  private targetOf(packet: PublishPacket, topic: string, mapped: MappedPublish): IngestTarget {
    const record = publishToRecord(packet, mapped.mqttTopicBytes, mapped.keyBytes, this.nowMs());
    const partitions = this.broker.topicLayout(mapped.topic).partitions;
    const partition = mapped.keyHash === undefined ? this.roundRobin++ % partitions : mapped.keyHash % partitions;
    return { topic: mapped.topic, partition, record, mqttTopic: topic, packet };
  }

  /** QoS 0 or 1 straight from the PUBLISH: `targetNow` then `append`, with `target` for a topic's first. */
  publish(packet: PublishPacket, topic: string, principal: MqttPrincipal, qos: 0 | 1): Promise<void> {
    return new Promise((resolve, reject) => this.publishThen(packet, topic, principal, qos, { appended: resolve, failed: reject }));
  }

  /**
   * `publish` telling `waiter` (never before this call returns): a QoS 1 PUBLISH to an existing
   * topic then costs its record and a place in the partition's next batch, no promise.
   */
  publishThen(packet: PublishPacket, topic: string, principal: MqttPrincipal, qos: 0 | 1, waiter: AppendWaiter): void {
    let now: IngestTarget | undefined;
    try {
      now = this.targetNow(packet, topic, principal);
    } catch (error) {
      queueMicrotask(() => waiter.failed(error));
      return;
    }
    if (now !== undefined && !packet.retain) return this.batches.appendThen(now.topic, now.partition, now.record, qos === 1, waiter);
    const appended = now === undefined ? this.target(packet, topic, principal).then((t) => this.append(t, qos)) : this.append(now, qos);
    appended.then(
      () => waiter.appended(),
      (error: unknown) => waiter.failed(error),
    );
  }

  /** The mapping of an MQTT topic with its bytes and key hash, from the cache or worked out now. */
  private mapped(mqttTopic: string): MappedPublish | undefined {
    const cached = this.mappings.get(mqttTopic);
    if (cached !== undefined) return cached;
    const mapped = mapTopic(this.rules, mqttTopic);
    if (mapped === undefined) return undefined;
    const keyBytes = mapped.key === null ? null : utf8.encode(mapped.key);
    const entry: MappedPublish = {
      topic: mapped.topic,
      keyBytes,
      keyHash: keyBytes === null ? undefined : murmur2(keyBytes) & 0x7fffffff,
      mqttTopicBytes: utf8.encode(mqttTopic),
    };
    if (mqttTopic.length > MAPPING_CACHE_TOPIC_CHARS) return entry;
    if (this.mappings.size >= MAPPING_CACHE_ENTRIES) this.mappings.clear();
    this.mappings.set(mqttTopic, entry);
    return entry;
  }

  /** QoS 0 once written to the OS, QoS 1 once fsynced (acks=all); batched with other publishes to the partition. */
  append(target: IngestTarget, qos: 0 | 1): Promise<void> {
    const appended = this.batches.append(target.topic, target.partition, target.record, qos === 1);
    if (!target.packet.retain) return appended;
    return appended.then(() => this.retain(target.packet, target.mqttTopic)).then(() => undefined);
  }

  /** The last sequence the session's producer appended to the target's partition (-1 for none yet). */
  lastSequence(target: IngestTarget, producerId: number, producerEpoch: number): number {
    return this.broker.producerLastSequence(target.topic, target.partition, producerId, producerEpoch);
  }

  /**
   * QoS 2: appends as the session's idempotent producer at `sequence`, fsynced, unless the
   * partition's producer state shows that sequence already in the log (a retry after a cut
   * connection or a crash). Resolves true when this call appended.
   */
  async appendIdempotent(target: IngestTarget, producerId: number, producerEpoch: number, sequence: number): Promise<boolean> {
    if (this.broker.producerLastSequence(target.topic, target.partition, producerId, producerEpoch) >= sequence) return false;
    const builder = new RecordBatchBuilder({ initialCapacityBytes: 256, producerId, producerEpoch, baseSequence: sequence });
    builder.append(target.record);
    await this.broker.appendBuilt(target.topic, target.partition, builder, Acks.all);
    if (target.packet.retain) await this.retain(target.packet, target.mqttTopic);
    return true;
  }
}
