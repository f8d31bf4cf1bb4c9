import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import type { Record as LogRecord } from '../../sdk/record/record.ts';
import { clientHost } from '../auth/request-access.ts';
import type { Broker } from '../broker.ts';
import { IsolationLevel } from '../fetch/fetch-types.ts';
import type { MqttPrincipal } from './mqtt-auth.ts';
import type { DeliveryHandler, MqttConnection } from './mqtt-connection.ts';
import { type MqttPacket, PacketType, ProtocolVersion, type QoS, type SubscribePacket, type Subscription, type UnsubscribePacket } from './mqtt-packet.ts';
import type { MqttProperties } from './mqtt-properties.ts';
import { protocolError, ReasonCode, SUBACK_FAILURE_V4 } from './mqtt-reason-code.ts';
import { MqttHeader, recordToProperties } from './mqtt-record.ts';
import type { MqttRetainedStore } from './mqtt-retained-store.ts';
import type { MqttSession } from './mqtt-session.ts';
import { partitionKey } from './mqtt-session-store.ts';
import { type DeliveryOutcome, MqttShareSubscription, mqttShareGroupId } from './mqtt-share-subscription.ts';
import { hasWildcard, parseSharedFilter, topicFilterProblem, topicMatches } from './mqtt-topic-filter.ts';
import { logTopicsForFilter, type MqttMappingRule, mqttTopicOf } from './mqtt-topic-mapping.ts';
import { delay } from '../../sdk/transport/backoff.ts';

export interface DeliveryOptions {
  broker: Broker;
  rules: readonly MqttMappingRule[];
  retained: MqttRetainedStore;
  maxSubscriptionsPerClient: number;
  /** Outbound QoS 1 and 2 messages awaiting their acknowledgement, at most (the client's Receive Maximum may lower it). */
  maxInFlight: number;
  /** How long one read of the log parks waiting for records. */
  pollWaitMs: number;
  fetchMaxBytes: number;
  nowMs: () => number;
  onError: (error: unknown) => void;
}

/** Where a message sent from the log came from. */
interface RecordSource {
  topic: string;
  partition: number;
  offset: number;
}

interface Outbound {
  qos: 1 | 2;
  resolve: (outcome: DeliveryOutcome) => void;
  /** QoS 2: PUBREC received and PUBREL sent, waiting for PUBCOMP. */
  released: boolean;
}

const utf8 = new TextDecoder();

/**
 * Delivers a session's subscriptions to its connection by reading the log (so records from any
 * producer reach MQTT subscribers): every matching record goes out at the lower of the
 * subscription's and the message's QoS (§3.8.4). The session's position in each partition moves
 * past a record as it is sent; a QoS 1 or 2 message stays in the session's outbound messages until
 * acknowledged, and a client back in its session gets those again first, with their packet ids
 * (§4.4). The state is written after each read's messages are all acknowledged and when the client
 * leaves. For a persistent session it is also written before a QoS 2 message from the log goes out
 * (naming its packet id) and before its PUBREL (saying PUBREC came), so a broker that crashed
 * resends that message with its packet id, which the client recognises, or only its PUBREL: QoS 2
 * stays exactly once across a crash. QoS 1 messages of a read in progress are sent again (at least
 * once, as QoS 1 allows).
 */
export class MqttDelivery implements DeliveryHandler {
  private running = true;
  private wake = new AbortController();
  private readonly inFlight = new Map<number, Outbound>();
  private nextPacketId = 1;
  /** Whether a position moved since the session's state was last written by the read loop. */
  private positionsMoved = false;
  private readonly maxInFlight: number;
  private readonly v5: boolean;
  private readonly slotFreed: (() => void)[] = [];
  /** Shared subscriptions (`$share/<name>/<filter>`) by their full filter; each a share-group member. */
  private readonly shared = new Map<string, MqttShareSubscription>();
  /**
   * Packets waiting for the state write that names them (and those sent after them, which keep
   * their order): at most one read's messages, as QoS 1 and 2 ones hold in-flight slots.
   */
  private held: MqttPacket[] = [];
  private heldNeedsPersist = false;
  private flushing: Promise<void> | undefined;
  /** Packet ids PUBRECed whose PUBREL waits for the state write that marks them released. */
  private releasing: number[] = [];

  constructor(
    private readonly connection: MqttConnection,
    private readonly session: MqttSession,
    private readonly principal: MqttPrincipal,
    private readonly options: DeliveryOptions,
    clientReceiveMaximum: number | undefined,
  ) {
    this.v5 = connection.version === ProtocolVersion.v5;
    this.maxInFlight = Math.min(options.maxInFlight, clientReceiveMaximum ?? 65_535);
    for (const s of session.state.subscriptions) if (parseSharedFilter(s.topicFilter) !== undefined) void this.startShared(s);
    void this.loop().catch((error: unknown) => {
      if (this.running) options.onError(error);
    });
  }

  private get subscriptions(): Subscription[] {
    return this.session.state.subscriptions;
  }

  /** The subscriptions read from the session's own positions (all but the shared ones). */
  private get ownSubscriptions(): Subscription[] {
    return this.subscriptions.filter((s) => !s.topicFilter.startsWith('$share/'));
  }

  /** Starts (or updates the QoS of) a shared subscription; resolves once it is ready to receive. */
  private startShared(subscription: Subscription): Promise<void> {
    const parsed = parseSharedFilter(subscription.topicFilter)!;
    const existing = this.shared.get(subscription.topicFilter);
    if (existing !== undefined) {
      existing.qos = subscription.qos;
      return existing.ready;
    }
    const { broker, rules, pollWaitMs, fetchMaxBytes, nowMs, onError } = this.options;
    const started = new MqttShareSubscription(parsed.group, parsed.filter, subscription.qos, {
        broker,
        rules,
        principal: this.principal,
        clientId: this.session.clientId,
        clientHost: clientHost(this.connection.remoteAddress),
        v5: this.v5,
        pollWaitMs,
        fetchMaxBytes,
        nowMs,
        onError,
        freeSlots: () => this.maxInFlight - this.inFlight.size,
        deliver: (topic, payload, qos, properties) => this.deliver(topic, payload, qos, false, properties),
      });
    this.shared.set(subscription.topicFilter, started);
    return started.ready;
  }

  private stopShared(filter: string): void {
    const subscription = this.shared.get(filter);
    if (subscription === undefined) return;
    this.shared.delete(filter);
    void subscription.close().catch((error: unknown) => this.options.onError(error));
  }

  /**
   * Why a shared subscription is refused (§4.8.2: a share name without `/`, `+` or `#`, then a
   * valid filter; the principal needs Group Read on the share group and Topic Read), or undefined.
   */
  private sharedProblem(filter: string): number | undefined {
    const parsed = parseSharedFilter(filter);
    if (parsed === undefined || parsed.group.includes('+') || parsed.group.includes('#') || topicFilterProblem(parsed.filter) !== undefined) return ReasonCode.TopicFilterInvalid;
    if (!this.principal.mayReadGroup(mqttShareGroupId(parsed.group, parsed.filter))) return ReasonCode.NotAuthorized;
    const first = parsed.filter.split('/')[0]!;
    if (!hasWildcard(first) && !this.principal.mayRead(logTopicsForFilter(this.options.rules, parsed.filter, [first])[0] ?? '')) return ReasonCode.NotAuthorized;
    return undefined;
  }

  async subscribe(packet: SubscribePacket): Promise<MqttPacket> {
    const reasonCodes: number[] = [];
    const fresh: Subscription[] = [];
    const sharedReady: Promise<void>[] = [];
    const refuse = (code: number) => reasonCodes.push(this.v5 ? code : SUBACK_FAILURE_V4);
    for (const subscription of packet.subscriptions) {
      const filter = subscription.topicFilter;
      const existing = this.subscriptions.findIndex((s) => s.topicFilter === filter);
      const shared = filter.startsWith('$share/');
      // §3.8.3.1: No Local on a shared subscription is a Protocol Error (the connection closes).
      if (shared && this.v5 && subscription.noLocal) throw protocolError(`No Local is set on the shared subscription "${filter}"`);
      const sharedProblem = shared ? this.sharedProblem(filter) : undefined;
      if (sharedProblem !== undefined) refuse(sharedProblem);
      else if (shared && existing < 0 && this.subscriptions.length >= this.options.maxSubscriptionsPerClient) refuse(ReasonCode.QuotaExceeded);
      else if (shared) {
        if (existing >= 0) this.subscriptions[existing] = subscription;
        else this.subscriptions.push(subscription);
        // §4.8.2: retained messages are not sent for a new shared subscription.
        sharedReady.push(this.startShared(subscription));
        reasonCodes.push(subscription.qos);
      } else if (topicFilterProblem(filter) !== undefined) refuse(ReasonCode.TopicFilterInvalid);
      else if (existing < 0 && this.subscriptions.length >= this.options.maxSubscriptionsPerClient) refuse(ReasonCode.QuotaExceeded);
      else if (!hasWildcard(filter.split('/')[0]!) && !this.principal.mayRead(logTopicsForFilter(this.options.rules, filter, [filter.split('/')[0]!])[0] ?? '')) refuse(ReasonCode.NotAuthorized);
      else {
        if (existing >= 0) this.subscriptions[existing] = subscription;
        else {
          this.subscriptions.push(subscription);
          this.startAtEnd(filter);
        }
        if (subscription.retainHandling === 0 || (subscription.retainHandling === 1 && existing < 0)) fresh.push(subscription);
        reasonCodes.push(subscription.qos);
      }
    }
    await this.session.steps.run(() => this.session.persist());
    await Promise.all(sharedReady);
    this.wakeUp();
    if (fresh.length > 0) setImmediate(() => this.sendRetained(fresh));
    return { type: PacketType.SUBACK, packetId: packet.packetId, reasonCodes, properties: {} };
  }

  async unsubscribe(packet: UnsubscribePacket): Promise<MqttPacket> {
    const reasonCodes: number[] = [];
    for (const filter of packet.topicFilters) {
      const at = this.subscriptions.findIndex((s) => s.topicFilter === filter);
      if (at >= 0) this.subscriptions.splice(at, 1);
      this.stopShared(filter);
      reasonCodes.push(at >= 0 ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
    }
    await this.session.steps.run(() => this.session.persist());
    this.wakeUp();
    return { type: PacketType.UNSUBACK, packetId: packet.packetId, reasonCodes: this.v5 ? reasonCodes : [], properties: {} };
  }

  /** A new subscription sees what is published from now on: partitions it reads that have no position yet start at their end. */
  private startAtEnd(filter: string): void {
    const positions = this.session.state.positions;
    for (const topic of logTopicsForFilter(this.options.rules, filter, this.options.broker.listTopics())) {
      const { partitions } = this.options.broker.topicLayout(topic);
      for (let p = 0; p < partitions; p++) {
        const key = partitionKey(topic, p);
        positions[key] ??= this.options.broker.listOffsets(topic, p, -1, IsolationLevel.readCommitted).offset;
      }
    }
  }

  private sendRetained(subscriptions: Subscription[]): void {
    for (const subscription of subscriptions) {
      for (const message of this.options.retained.matching(subscription.topicFilter, this.options.nowMs())) {
        const qos = Math.min(subscription.qos, message.qos) as QoS;
        const properties: MqttProperties = { ...message.properties };
        if (message.expiresAtMs !== undefined) properties.messageExpiryInterval = Math.max(1, Math.ceil((message.expiresAtMs - this.options.nowMs()) / 1000));
        void this.deliver(message.topic, message.payload, qos, true, properties).catch((error: unknown) => this.options.onError(error));
      }
    }
  }

  acknowledged(packet: MqttPacket): void {
    if (packet.type !== PacketType.PUBACK && packet.type !== PacketType.PUBREC && packet.type !== PacketType.PUBCOMP) return;
    const outbound = this.inFlight.get(packet.packetId);
    if (outbound === undefined) return;
    if (packet.type === PacketType.PUBREC && outbound.qos === 2 && !outbound.released) {
      if (packet.reasonCode >= 0x80) return this.complete(packet.packetId, outbound, 'refused');
      outbound.released = true;
      const intent = this.session.state.outbound?.[packet.packetId];
      // Marked in memory for every session: a takeover of a clean session resends PUBREL too.
      if (intent !== undefined) intent[5] = 1;
      if (intent === undefined || !this.session.persistent) {
        this.connection.send([{ type: PacketType.PUBREL, packetId: packet.packetId, reasonCode: 0, properties: {} }]);
        return;
      }
      this.release(packet.packetId);
      return;
    }
    if (packet.type === PacketType.PUBACK && outbound.qos === 1) this.complete(packet.packetId, outbound, packet.reasonCode >= 0x80 ? 'refused' : 'acknowledged');
    else if (packet.type === PacketType.PUBCOMP && outbound.released) this.complete(packet.packetId, outbound, 'acknowledged');
  }

  /**
   * Sends PUBREL once the state saying PUBREC came is durable, so a broker that crashes afterwards
   * sends PUBREL again, never the PUBLISH the client already has. PUBRECs arriving meanwhile share
   * the next write.
   */
  private release(packetId: number): void {
    this.releasing.push(packetId);
    if (this.releasing.length > 1) return;
    this.session.steps
      .run(async () => {
        const packetIds = this.releasing.splice(0);
        await this.session.persist();
        if (this.running) this.connection.send(packetIds.map((id) => ({ type: PacketType.PUBREL, packetId: id, reasonCode: 0, properties: {} })));
      })
      .catch((error: unknown) => this.options.onError(error));
  }

  private complete(packetId: number, outbound: Outbound, outcome: DeliveryOutcome): void {
    this.inFlight.delete(packetId);
    if (outcome !== 'dropped' && this.session.state.outbound !== undefined) delete this.session.state.outbound[packetId];
    outbound.resolve(outcome);
    this.slotFreed.shift()?.();
  }

  close(): void {
    this.running = false;
    this.wake.abort();
    for (const [id, outbound] of this.inFlight) this.complete(id, outbound, 'dropped');
    for (const waiter of this.slotFreed.splice(0)) waiter();
    for (const filter of [...this.shared.keys()]) this.stopShared(filter);
  }

  /** Reads again at once (a topic was created that a subscription may read). */
  wakeUp(): void {
    const old = this.wake;
    this.wake = new AbortController();
    old.abort();
    for (const subscription of this.shared.values()) subscription.wakeUp();
  }

  /**
   * Sends one PUBLISH once an in-flight slot is free; `acked` resolves when it is acknowledged (at
   * once for QoS 0). A message from the log (`source`) moves the session's position past its
   * record as it is sent and, at QoS 1 and 2, is kept in the session's outbound messages until
   * acknowledged: the two change together, so any state written holds the message in one of them.
   */
  private async deliver(topic: string, payload: Uint8Array, qos: QoS, retain: boolean, properties: MqttProperties, source?: RecordSource): Promise<{ acked: Promise<DeliveryOutcome> }> {
    const done = { acked: Promise.resolve<DeliveryOutcome>(this.running ? 'acknowledged' : 'dropped') };
    while (qos > 0 && this.inFlight.size >= this.maxInFlight && this.running) {
      // Held messages hold slots: they go out (after their state write) before waiting for one.
      await this.flushHeld();
      if (this.inFlight.size >= this.maxInFlight && this.running) await this.slot();
    }
    if (!this.running) return done;
    if (source !== undefined) this.moveTo(partitionKey(source.topic, source.partition), source.offset + 1);
    if (qos === 0) {
      await this.send({ type: PacketType.PUBLISH, dup: false, qos, retain, topic, properties, payload }, false);
      return done;
    }
    const outbound = (this.session.state.outbound ??= {});
    let packetId = this.nextPacketId;
    while (this.inFlight.has(packetId) || outbound[packetId] !== undefined) packetId = (packetId % 0xffff) + 1;
    this.nextPacketId = (packetId % 0xffff) + 1;
    const acked = new Promise<DeliveryOutcome>((resolve) => this.inFlight.set(packetId, { qos, resolve, released: false }));
    if (source !== undefined) outbound[packetId] = [source.topic, source.partition, source.offset, qos, retain ? 1 : 0, 0];
    await this.send({ type: PacketType.PUBLISH, dup: false, qos, retain, topic, packetId, properties, payload }, qos === 2 && source !== undefined && this.session.persistent);
    return { acked };
  }

  /**
   * Writes `packet` now, or holds it: when it must wait for the session's state to be durable
   * (`afterPersist`), or when packets before it are held. `flushHeld` sends what is held.
   */
  private async send(packet: MqttPacket, afterPersist: boolean): Promise<void> {
    if (!afterPersist && this.held.length === 0 && this.flushing === undefined) return this.write(packet);
    this.held.push(packet);
    if (afterPersist) this.heldNeedsPersist = true;
  }

  /** Writes the session's state if a held packet needs it, then sends the held packets in order. */
  private flushHeld(): Promise<void> {
    if (this.held.length === 0) return this.flushing ?? Promise.resolve();
    return (this.flushing ??= this.drainHeld().finally(() => (this.flushing = undefined)));
  }

  private async drainHeld(): Promise<void> {
    while (this.held.length > 0 && this.running) {
      const packets = this.held;
      const persist = this.heldNeedsPersist;
      this.held = [];
      this.heldNeedsPersist = false;
      if (persist) await this.session.steps.run(() => this.session.persist());
      for (const packet of packets) if (this.running) await this.write(packet);
    }
    if (!this.running) this.held = [];
  }

  /** Sets the session's position in a partition (the next offset to send), noting that it moved. */
  private moveTo(key: string, offset: number): void {
    const positions = this.session.state.positions;
    if ((positions[key] ?? -1) === offset) return;
    positions[key] = offset;
    this.positionsMoved = true;
  }

  private slot(): Promise<void> {
    return new Promise<void>((resolve) => this.slotFreed.push(resolve));
  }

  /**
   * §4.4: a client back in its session gets the messages it had not acknowledged again, with their
   * packet ids, in the order first sent: PUBLISH with DUP set, or PUBREL for those it PUBRECed. A
   * record gone from the log meanwhile (retention) cannot be sent again and is dropped from them.
   */
  private async resendOutbound(): Promise<void> {
    const outbound = this.session.state.outbound;
    if (outbound === undefined) return;
    const ids = Object.keys(outbound).map(Number).sort((a, b) => a - b);
    for (const packetId of ids) {
      const intent = outbound[packetId];
      if (intent === undefined) continue;
      const [logTopic, partition, offset, qos, retain, released] = intent;
      while (this.inFlight.size >= this.maxInFlight && this.running) await this.slot();
      if (!this.running) return;
      if (released === 1) {
        this.inFlight.set(packetId, { qos: 2, resolve: () => undefined, released: true });
        await this.write({ type: PacketType.PUBREL, packetId, reasonCode: 0, properties: {} });
        continue;
      }
      const record = await this.readRecord(logTopic, partition, offset);
      if (!this.running) return;
      if (record === undefined) {
        delete outbound[packetId];
        continue;
      }
      const { topic } = this.addressOf(logTopic, record);
      const { payload, properties } = this.contentOf(record);
      this.inFlight.set(packetId, { qos, resolve: () => undefined, released: false });
      await this.write({ type: PacketType.PUBLISH, dup: true, qos, retain: retain === 1, topic, packetId, properties, payload });
    }
  }

  /** The record at `offset` of a partition, or undefined when the log no longer holds it. */
  private async readRecord(topic: string, partition: number, offset: number): Promise<LogRecord | undefined> {
    const [result] = await this.options.broker.fetch({
      partitions: [{ topic, partition, fetchOffset: offset, partitionMaxBytes: this.options.fetchMaxBytes }],
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: this.options.fetchMaxBytes,
      isolationLevel: IsolationLevel.readCommitted,
    });
    if (result === undefined || result.error !== undefined) return undefined;
    for (const batch of readRecordBatches(result.records)) {
      if (batch.isControl || batch.lastOffset < offset) continue;
      for (const record of batch.records()) if (record.offset === offset) return record;
      return undefined;
    }
    return undefined;
  }

  private async write(packet: MqttPacket): Promise<void> {
    if (!this.connection.send([packet])) await new Promise<void>((resolve) => this.connection.onDrain(resolve));
  }

  private partitionsToRead(): { topic: string; partition: number }[] {
    const broker = this.options.broker;
    const topics = new Set<string>();
    const all = broker.listTopics();
    for (const s of this.ownSubscriptions) for (const t of logTopicsForFilter(this.options.rules, s.topicFilter, all)) topics.add(t);
    const out: { topic: string; partition: number }[] = [];
    for (const topic of topics) {
      if (!this.principal.mayRead(topic)) continue;
      const { partitions } = broker.topicLayout(topic);
      for (let p = 0; p < partitions; p++) out.push({ topic, partition: p });
    }
    return out;
  }

  private async loop(): Promise<void> {
    const broker = this.options.broker;
    const positions = this.session.state.positions;
    await this.resendOutbound();
    while (this.running) {
      const partitions = this.partitionsToRead();
      if (partitions.length === 0) {
        // Nothing to read yet: a subscription change, or a topic created since (checked every poll), ends the wait.
        // Ends early (resolving, not failing) when woken.
        await delay(this.options.pollWaitMs, this.wake.signal).catch(() => undefined);
        continue;
      }
      const request = {
        // A partition first seen after the subscription (a topic created since) is read from its start.
        partitions: partitions.map(({ topic, partition }) => ({ topic, partition, fetchOffset: positions[partitionKey(topic, partition)] ?? 0, partitionMaxBytes: this.options.fetchMaxBytes })),
        maxWaitMs: this.options.pollWaitMs,
        minBytes: 1,
        maxBytes: this.options.fetchMaxBytes,
        isolationLevel: IsolationLevel.readCommitted,
      };
      let results;
      try {
        results = await broker.fetch(request, this.wake.signal);
      } catch (error) {
        if (!this.running) return;
        throw error;
      }
      if (!this.running) return;
      const acks: Promise<DeliveryOutcome>[] = [];
      for (const result of results) {
        const key = partitionKey(result.topic, result.partition);
        if (result.error !== undefined) {
          if (result.error.errorName === 'OFFSET_OUT_OF_RANGE') this.moveTo(key, result.logStartOffset);
          continue;
        }
        for (const batch of readRecordBatches(result.records)) {
          if (batch.isControl) {
            this.moveTo(key, batch.lastOffset + 1);
            continue;
          }
          for (const record of batch.records()) {
            if (record.offset < (positions[key] ?? 0)) continue;
            const delivery = await this.deliverRecord(result.topic, result.partition, record);
            if (!this.running) return;
            // Not for this session (no subscription matches, or expired): passed over.
            if (delivery === undefined) this.moveTo(key, record.offset + 1);
            else acks.push(delivery.acked);
          }
          this.moveTo(key, batch.lastOffset + 1);
        }
      }
      await this.flushHeld();
      // Lockstep with the client: the next read waits for this one's acknowledgements, so a state
      // written now holds no outbound message of this read and at most one read is resent.
      await Promise.all(acks);
      if (!this.running || !this.positionsMoved) continue;
      this.positionsMoved = false;
      await this.session.steps.run(() => this.session.persist());
    }
  }

  /** The MQTT topic a log record is addressed to, and a reader of its headers. */
  private addressOf(logTopic: string, record: LogRecord): { topic: string; header: (name: string) => string | undefined } {
    const header = (name: string): string | undefined => {
      const h = record.headers.find((x) => x.key === name);
      return h?.value == null ? undefined : utf8.decode(h.value);
    };
    return { topic: mqttTopicOf(logTopic, record.key === null ? null : utf8.decode(record.key), header(MqttHeader.topic)), header };
  }

  /** A record's payload and MQTT properties as this session's client sees them, and whether it expired. */
  private contentOf(record: LogRecord): { payload: Uint8Array; properties: MqttProperties; expired: boolean } {
    const { properties, expired } = recordToProperties(record.headers, this.options.nowMs());
    return { payload: record.value ?? new Uint8Array(0), properties: this.v5 ? properties : {}, expired };
  }

  /**
   * Sends a record to the client if one of the session's own subscriptions matches it; undefined
   * when none does or it expired. Matched on the topic first: most records read match nothing.
   */
  private async deliverRecord(logTopic: string, partition: number, record: LogRecord): Promise<{ acked: Promise<DeliveryOutcome> } | undefined> {
    const { topic, header } = this.addressOf(logTopic, record);
    let best: Subscription | undefined;
    for (const s of this.ownSubscriptions) if (topicMatches(s.topicFilter, topic) && (best === undefined || s.qos > best.qos)) best = s;
    if (best === undefined) return undefined;
    const { payload, properties, expired } = this.contentOf(record);
    if (expired) return undefined;
    // Records from Kafka producers carry no QoS; they are durable, so they count as QoS 1.
    const messageQos = Number(header(MqttHeader.qos) ?? 1);
    const qos = Math.min(best.qos, messageQos) as QoS;
    const retain = best.retainAsPublished && header(MqttHeader.retain) === '1';
    return this.deliver(topic, payload, qos, retain, properties, { topic: logTopic, partition, offset: record.offset });
  }
}
