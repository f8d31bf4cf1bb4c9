import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { ErrorCode, errorName } from '../../sdk/protocol/error-codes.ts';
import type { Broker } from '../broker.ts';
import { PendingAcknowledgements } from '../../sdk/client/share-consumer/share-acknowledgements.ts';
import { AcknowledgeType, type AcknowledgeTypeValue } from '../../sdk/protocol/acknowledge-type.ts';
import { ShareSessionEpoch } from '../share/share-sessions.ts';
import type { MqttPrincipal } from './mqtt-auth.ts';
import type { QoS } from './mqtt-packet.ts';
import type { MqttProperties } from './mqtt-properties.ts';
import { MqttHeader, recordToProperties } from './mqtt-record.ts';
import { topicMatches } from './mqtt-topic-filter.ts';
import { logTopicsForFilter, type MqttMappingRule, mqttTopicOf } from './mqtt-topic-mapping.ts';
import { delay } from '../../sdk/transport/backoff.ts';

/**
 * The share group (KIP-932, broker/share/) behind the MQTT shared subscriptions of one share name
 * and filter: every `$share/<name>/<filter>` subscriber is a member of `mqtt-share-<name>/<filter>`
 * (a shared subscription is its share name and its filter, §4.8.2: subscribers of one name with
 * different filters are different subscriptions, each getting every message its filter matches),
 * so Kafka share consumers and HTTP share members of that group split the same records with the
 * MQTT clients. An ACL with the PREFIXED pattern `mqtt-share-<name>/` covers every filter of a name.
 */
export function mqttShareGroupId(shareName: string, filter: string): string {
  return `mqtt-share-${shareName}/${filter}`;
}

/** How the client answered a message: PUBACK / PUBCOMP, a PUBREC with a failure code, or nothing before the connection closed. */
export type DeliveryOutcome = 'acknowledged' | 'refused' | 'dropped';

export interface ShareSubscriptionContext {
  broker: Broker;
  rules: readonly MqttMappingRule[];
  principal: MqttPrincipal;
  clientId: string;
  clientHost: string;
  v5: boolean;
  pollWaitMs: number;
  fetchMaxBytes: number;
  nowMs: () => number;
  /** Outbound QoS 1 and 2 slots free on the connection now (what one fetch acquires at most). */
  freeSlots(): number;
  /** Sends one PUBLISH (waiting for an in-flight slot); `acked` settles with the client's answer (at once for QoS 0). */
  deliver(topic: string, payload: Uint8Array, qos: QoS, properties: MqttProperties): Promise<{ acked: Promise<DeliveryOutcome> }>;
  onError(error: unknown): void;
}

const utf8 = new TextDecoder();
/** Records one fetch acquires at most, whatever the free slots (QoS 0 subscriptions have no window). */
const MAX_RECORDS_PER_FETCH = 500;

/**
 * One MQTT shared subscription of one connection, as a member of the share name's share group:
 * it heartbeats, acquires records with ShareFetch (as many as the connection has in-flight slots
 * for), sends each to the client, and acknowledges it ACCEPT once the client answers (PUBACK for
 * QoS 1, PUBCOMP for QoS 2, at once for QoS 0); a record the client refused (PUBREC ≥ 0x80) is
 * REJECTed. A record of the group's topics that does not match the filter is accepted unsent.
 * Closing leaves the group, which releases every record delivered but unanswered: the
 * coordinator hands them to another member, with their delivery count raised.
 */
export class MqttShareSubscription {
  readonly groupId: string;
  private running = true;
  private wake = new AbortController();
  private memberId: string | undefined;
  private memberEpoch = 0;
  private sessionEpoch: number = ShareSessionEpoch.open;
  private topics: string[] = [];
  private assignment: { topicId: string; partitions: number[] }[] = [];
  /** Acknowledgements waiting to be sent; bounded by the records acquired. */
  private readonly pendingAcks = new PendingAcknowledgements();
  private flushing: Promise<void> | undefined;
  private readonly loopDone: Promise<void>;
  private markReady: () => void = () => undefined;
  /**
   * Resolves once the member has joined and fetched once (which starts its share partitions at
   * the group's `share.auto.offset.reset`: with latest, the default, at the first message from
   * `madeAtMs` on), or found no topic to read: SUBACK waits for it, so what is published after
   * SUBACK reaches the group.
   */
  readonly ready: Promise<void>;
  /**
   * When the subscription was made: a share partition the group starts for it begins at the first
   * message published from then on, so a topic created afterwards (by the first PUBLISH to it, which
   * the subscription learns of only later) is read from its start, not from where it stood then.
   */
  private readonly madeAtMs: number;

  constructor(
    readonly shareName: string,
    readonly filter: string,
    public qos: QoS,
    private readonly context: ShareSubscriptionContext,
  ) {
    this.groupId = mqttShareGroupId(shareName, filter);
    this.madeAtMs = context.nowMs();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.loopDone = this.loop()
      .catch((error: unknown) => {
        if (this.running) context.onError(error);
      })
      .finally(() => this.markReady());
  }

  /** Re-reads the topics at once (a topic was created that the filter may read). */
  wakeUp(): void {
    const old = this.wake;
    this.wake = new AbortController();
    old.abort();
  }

  /** Stops acquiring, sends the acknowledgements the client gave, and leaves the group (releasing what it holds). */
  async close(): Promise<void> {
    this.running = false;
    this.wake.abort();
    await this.loopDone;
    await this.flushAcks();
    if (this.memberId === undefined) return;
    const coordinator = this.context.broker.shareGroups;
    await coordinator.heartbeat(this.groupId, { memberId: this.memberId, memberEpoch: -1, rackId: null, subscribedTopicNames: null });
    this.memberId = undefined;
  }

  private readableTopics(): string[] {
    const { broker, rules, principal } = this.context;
    return logTopicsForFilter(rules, this.filter, broker.listTopics())
      .filter((t) => principal.mayRead(t))
      .sort();
  }

  private async idle(): Promise<void> {
    // Ends early (resolving, not failing) when woken.
    await delay(this.context.pollWaitMs, this.wake.signal).catch(() => undefined);
  }

  /** Joins, or heartbeats with the topics the filter reads now; false when not a member afterwards. */
  private async heartbeat(): Promise<boolean> {
    const coordinator = this.context.broker.shareGroups;
    const topics = this.readableTopics();
    const changed = topics.length !== this.topics.length || topics.some((t, i) => t !== this.topics[i]);
    if (this.memberId === undefined && topics.length === 0) return false;
    const answer = await coordinator.heartbeat(this.groupId, {
      memberId: this.memberId ?? '',
      memberEpoch: this.memberId === undefined ? 0 : this.memberEpoch,
      rackId: null,
      subscribedTopicNames: this.memberId === undefined || changed ? topics : null,
      clientId: this.context.clientId,
      clientHost: this.context.clientHost,
    });
    if (answer.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || answer.errorCode === ErrorCode.FENCED_MEMBER_EPOCH) {
      // Timed out in the coordinator (its records were released): join again.
      this.memberId = undefined;
      this.sessionEpoch = ShareSessionEpoch.open;
      return false;
    }
    if (answer.errorCode !== 0 || answer.memberId === null) throw new Error(`share group "${this.groupId}": ${errorName(answer.errorCode) ?? answer.errorCode}: ${answer.errorMessage ?? ''}`);
    if (this.memberId !== answer.memberId) this.sessionEpoch = ShareSessionEpoch.open;
    this.memberId = answer.memberId;
    this.memberEpoch = answer.memberEpoch;
    this.topics = topics;
    if (answer.assignment !== null) this.assignment = answer.assignment;
    return true;
  }

  private takeEpoch(): number {
    const epoch = this.sessionEpoch;
    this.sessionEpoch = epoch === 0x7fffffff ? 1 : epoch + 1;
    return epoch;
  }

  private checkSession(errorCode: number): void {
    if (errorCode === ErrorCode.SHARE_SESSION_NOT_FOUND || errorCode === ErrorCode.INVALID_SHARE_SESSION_EPOCH) this.sessionEpoch = ShareSessionEpoch.open;
    if (errorCode === ErrorCode.UNKNOWN_MEMBER_ID || errorCode === ErrorCode.FENCED_MEMBER_EPOCH) this.memberId = undefined;
  }

  private async loop(): Promise<void> {
    const coordinator = this.context.broker.shareGroups;
    let first = true;
    while (this.running) {
      if (!(await this.heartbeat())) {
        this.markReady();
        await this.idle();
        continue;
      }
      const partitions = this.assignment.flatMap((t) => t.partitions.map((partition) => ({ topicId: t.topicId, partition, partitionMaxBytes: this.context.fetchMaxBytes, acknowledgementBatches: [] })));
      if (partitions.length === 0 || !this.running) {
        await this.idle();
        continue;
      }
      const maxRecords = this.qos === 0 ? MAX_RECORDS_PER_FETCH : Math.min(MAX_RECORDS_PER_FETCH, this.context.freeSlots());
      if (maxRecords <= 0) {
        // Every slot is taken: the next acknowledgement (or the poll interval, for the heartbeat) frees one.
        await this.idle();
        continue;
      }
      const epoch = this.takeEpoch();
      const answer = await coordinator.shareFetch(
        { groupId: this.groupId, memberId: this.memberId!, shareSessionEpoch: epoch, maxWaitMs: first ? 0 : this.context.pollWaitMs, minBytes: 1, maxBytes: this.context.fetchMaxBytes, partitions, forgotten: [], maxRecords, startAtMs: this.madeAtMs },
        this.wake.signal,
      );
      this.checkSession(answer.errorCode);
      if (answer.errorCode === 0 && first) {
        first = false;
        this.markReady();
      }
      if (answer.errorCode !== 0) {
        if (answer.errorCode !== ErrorCode.SHARE_SESSION_NOT_FOUND && answer.errorCode !== ErrorCode.INVALID_SHARE_SESSION_EPOCH && answer.errorCode !== ErrorCode.UNKNOWN_MEMBER_ID) {
          this.context.onError(new Error(`share fetch of "${this.groupId}": ${errorName(answer.errorCode) ?? answer.errorCode}: ${answer.errorMessage ?? ''}`));
          await this.idle();
        }
        continue;
      }
      for (const result of answer.partitions) {
        if (result.errorCode !== 0 || result.records === null || result.acquiredRecords.length === 0) continue;
        await this.deliverAcquired(result.topicId, result.partition, result.records, result.acquiredRecords);
      }
    }
  }

  private async deliverAcquired(topicId: string, partition: number, records: Uint8Array, acquired: readonly { firstOffset: number; lastOffset: number }[]): Promise<void> {
    const logTopic = this.context.broker.topicNameById(topicId);
    const unseen = new Set<number>();
    for (const range of acquired) for (let o = range.firstOffset; o <= range.lastOffset; o++) unseen.add(o);
    for (const batch of readRecordBatches(records)) {
      if (batch.isControl) continue;
      for (const record of batch.records()) {
        if (!unseen.delete(record.offset)) continue;
        const offset = record.offset;
        if (logTopic === undefined || !this.running) {
          // Not sent: left acquired, and released when the member leaves.
          continue;
        }
        const sent = await this.deliverRecord(logTopic, record.key, record.value, record.headers);
        if (sent === undefined) {
          this.acknowledge(topicId, partition, offset, AcknowledgeType.ACCEPT);
          continue;
        }
        void sent.acked.then((outcome) => {
          if (outcome === 'acknowledged') this.acknowledge(topicId, partition, offset, AcknowledgeType.ACCEPT);
          else if (outcome === 'refused') this.acknowledge(topicId, partition, offset, AcknowledgeType.REJECT);
        });
      }
    }
    // Offsets acquired without a data record (transaction markers, compacted away) are gaps.
    for (const offset of unseen) this.acknowledge(topicId, partition, offset, AcknowledgeType.GAP);
  }

  /** Sends one record; undefined when it is not for this subscription (another MQTT topic of the log topic, expired). */
  private async deliverRecord(logTopic: string, key: Uint8Array | null, value: Uint8Array | null, headers: readonly { key: string; value: Uint8Array | null }[]): Promise<{ acked: Promise<DeliveryOutcome> } | undefined> {
    const header = (name: string): string | undefined => {
      const h = headers.find((x) => x.key === name);
      return h?.value == null ? undefined : utf8.decode(h.value);
    };
    const topic = mqttTopicOf(logTopic, key === null ? null : utf8.decode(key), header(MqttHeader.topic));
    if (!topicMatches(this.filter, topic)) return undefined;
    const { properties, expired } = recordToProperties(headers, this.context.nowMs());
    if (expired) return undefined;
    const qos = Math.min(this.qos, Number(header(MqttHeader.qos) ?? 1)) as QoS;
    return this.context.deliver(topic, value ?? new Uint8Array(0), qos, this.context.v5 ? properties : {});
  }

  private acknowledge(topicId: string, partition: number, offset: number, type: AcknowledgeTypeValue): void {
    this.pendingAcks.add(topicId, partition, offset, type);
    if (this.flushing === undefined) {
      this.flushing = this.flushAcks()
        .catch((error: unknown) => this.context.onError(error))
        .finally(() => (this.flushing = undefined));
    }
  }

  /** Sends the pending acknowledgements, one ShareAcknowledge at a time (each carries what gathered while the last was written). */
  private async flushAcks(): Promise<void> {
    await this.flushing;
    const coordinator = this.context.broker.shareGroups;
    while (!this.pendingAcks.isEmpty && this.memberId !== undefined) {
      const partitions = this.pendingAcks.take().map((p) => ({ topicId: p.topicId, partition: p.partition, acknowledgementBatches: p.batches }));
      if (this.sessionEpoch === ShareSessionEpoch.open) {
        // The session was lost: what the member holds is its by member id, so an empty fetch opens one.
        const opened = await coordinator.shareFetch({ groupId: this.groupId, memberId: this.memberId, shareSessionEpoch: this.takeEpoch(), maxWaitMs: 0, minBytes: 0, maxBytes: 0, partitions: [], forgotten: [] });
        this.checkSession(opened.errorCode);
        if (opened.errorCode !== 0) return;
      }
      const answer = await coordinator.shareAcknowledge({ groupId: this.groupId, memberId: this.memberId, shareSessionEpoch: this.takeEpoch(), partitions });
      this.checkSession(answer.errorCode);
    }
  }
}
