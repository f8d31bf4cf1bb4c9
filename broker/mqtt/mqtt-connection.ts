import type { MqttAuthenticator, MqttPrincipal } from './mqtt-auth.ts';
import { decodePacket } from './mqtt-decode.ts';
import { writePacket } from './mqtt-encode.ts';
import type { MqttByteStream } from './mqtt-byte-stream.ts';
import type { MqttIngest } from './mqtt-ingest.ts';
import {
  type ConnectPacket,
  type MqttPacket,
  PacketType,
  ProtocolVersion,
  type ProtocolVersionValue,
  type PublishPacket,
  type SubscribePacket,
  type UnsubscribePacket,
  type Will,
} from './mqtt-packet.ts';
import type { RawPacket } from './mqtt-packet-splitter.ts';
import { MqttPacketSplitter } from './mqtt-packet-splitter.ts';
import type { MqttProperties } from './mqtt-properties.ts';
import { ConnectReturnCode, MqttProtocolError, protocolError, ReasonCode, type ReasonCodeValue } from './mqtt-reason-code.ts';
import type { MqttSession, SessionOwner } from './mqtt-session.ts';
import type { MqttSessionRegistry } from './mqtt-session-registry.ts';
import type { MqttWillScheduler } from './mqtt-will-scheduler.ts';
import { MqttWriter } from './mqtt-writer.ts';

export interface MqttConnectionLimits {
  /** The largest packet accepted, fixed header included (announced as Maximum Packet Size). */
  maxPacketBytes: number;
  /** QoS 1 and 2 PUBLISHes a client may have unacknowledged (announced as Receive Maximum). */
  receiveMaximum: number;
  /** Topic aliases a client may set (announced as Topic Alias Maximum). */
  topicAliasMaximum: number;
  maxSubscriptionsPerClient: number;
  /** A CONNECT must arrive within this long of the TCP connection. */
  connectTimeoutMs: number;
}

/** What SUBSCRIBE, UNSUBSCRIBE and acknowledgements of deliveries go to (broker/mqtt/mqtt-delivery.ts). */
export interface DeliveryHandler {
  subscribe(packet: SubscribePacket): Promise<MqttPacket>;
  unsubscribe(packet: UnsubscribePacket): Promise<MqttPacket>;
  acknowledged(packet: MqttPacket): void;
  close(): void;
}

export interface MqttConnectionContext {
  registry: MqttSessionRegistry;
  wills: MqttWillScheduler;
  auth: MqttAuthenticator;
  ingest: MqttIngest;
  limits: MqttConnectionLimits;
  /** Starts delivering the session's subscriptions to this connection. */
  startDelivery(connection: MqttConnection, session: MqttSession, principal: MqttPrincipal): DeliveryHandler;
  /** The will of a connection that ended without DISCONNECT (or with reason 0x04). */
  publishWill(connect: ConnectPacket, principal: MqttPrincipal): Promise<void>;
  onError(error: unknown, remoteAddress: string): void;
}

interface Slot {
  done: boolean;
  packets: MqttPacket[];
}

/** The properties of a plain success answer, shared: encoders only read them. */
const NO_PROPERTIES: MqttProperties = Object.freeze({});

/** Slots waiting for their turn or for their answer; past it the socket stops reading. */
const MAX_QUEUED_PACKETS = 1024;
/** Packets read but not yet decoded: streams that cannot pause (WebSockets on Bun and Deno) are cut past it (a 64 KiB TCP read holds at most 32,768). */
const MAX_INCOMING_PACKETS = 65_536;

/**
 * One MQTT client connection: packets in (one at a time through the decoder), answers out in the
 * order the packets came (the ordering §4.6 asks for PUBACK and PUBREC), and the session it is
 * attached to. A packet the codec or the rules refuse ends the connection with its reason code.
 */
export class MqttConnection implements SessionOwner {
  readonly remoteAddress: string;
  version: ProtocolVersionValue = ProtocolVersion.v5;
  private readonly splitter: MqttPacketSplitter;
  private readonly incoming: RawPacket[] = [];
  private readonly slots: Slot[] = [];
  private pumping = false;
  private flushScheduled = false;
  private connect: ConnectPacket | undefined;
  private session: MqttSession | undefined;
  private principal: MqttPrincipal | undefined;
  private delivery: DeliveryHandler | undefined;
  private closed = false;
  private willCancelled = false;
  private readonly aliases = new Map<number, string>();
  /** Inbound QoS 1 and 2 PUBLISHes not yet answered with PUBACK or PUBCOMP. */
  private inboundInFlight = 0;
  private readonly qos2InFlight = new Set<number>();
  private keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  private keepAliveMs = 0;
  private readonly closedPromise: Promise<void>;
  /** Whatever this connection started and has not finished (CONNECT, appends), awaited before a takeover resolves. */
  private work: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly socket: MqttByteStream,
    private readonly context: MqttConnectionContext,
  ) {
    this.remoteAddress = socket.remoteAddress;
    this.splitter = new MqttPacketSplitter(context.limits.maxPacketBytes);
    // Resolves once the close is handled (the will settled, the session detached), so a takeover
    // finds the previous connection's will scheduled, and a shutdown its session written.
    this.closedPromise = new Promise((resolve) => socket.onceClose(() => void this.onClose().finally(resolve)));
    socket.onData((chunk) => this.onData(chunk));
    this.armKeepAlive(context.limits.connectTimeoutMs);
  }

  /** The client's Receive Maximum (MQTT 5 CONNECT), bounding what is sent to it unacknowledged. */
  get clientReceiveMaximum(): number | undefined {
    return this.connect?.properties.receiveMaximum;
  }

  get clientId(): string | undefined {
    return this.session?.clientId;
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.armKeepAlive(this.keepAliveMs);
    try {
      for (const raw of this.splitter.push(chunk)) this.incoming.push(raw);
      if (this.incoming.length > MAX_INCOMING_PACKETS) throw new MqttProtocolError(ReasonCode.QuotaExceeded, `more than ${MAX_INCOMING_PACKETS} packets read ahead of processing`);
    } catch (error) {
      this.fail(error);
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.incoming.length > 0 && !this.closed) {
        if (this.slots.length >= MAX_QUEUED_PACKETS) {
          this.socket.pause();
          return;
        }
        const raw = this.incoming.shift()!;
        const packet = decodePacket(raw.first, raw.body, this.version);
        if (this.connect === undefined) {
          const connecting = this.onConnect(packet);
          this.work = connecting.catch(() => undefined);
          await connecting;
        } else {
          this.onPacket(packet);
        }
      }
      this.socket.resume();
    } catch (error) {
      this.fail(error);
    } finally {
      this.pumping = false;
    }
  }

  private async onConnect(packet: MqttPacket): Promise<void> {
    if (packet.type !== PacketType.CONNECT) throw protocolError('the first packet must be CONNECT');
    this.version = packet.protocolVersion;
    this.connect = packet;
    const v5 = this.version === ProtocolVersion.v5;
    if (packet.properties.authenticationMethod !== undefined) {
      return this.refuseConnect(ReasonCode.BadAuthenticationMethod, ConnectReturnCode.NotAuthorized, 'enhanced authentication is not supported');
    }
    if (!v5 && packet.clientId === '' && !packet.cleanStart) {
      return this.refuseConnect(ReasonCode.ClientIdentifierNotValid, ConnectReturnCode.IdentifierRejected, 'an empty client id needs clean session');
    }
    const auth = await this.context.auth.authenticate(packet.username, packet.password, this.remoteAddress, this.socket.certificatePrincipal);
    if (!auth.ok) {
      return auth.reason === 'bad-credentials'
        ? this.refuseConnect(ReasonCode.BadUserNameOrPassword, ConnectReturnCode.BadUserNameOrPassword, 'bad user name or password')
        : this.refuseConnect(ReasonCode.NotAuthorized, ConnectReturnCode.NotAuthorized, 'not authorized');
    }
    if (this.closed) return;
    this.principal = auth.principal;
    const opened = await this.context.registry.open(packet, this);
    this.session = opened.session;
    // A resumed session keeps the previous connection's delayed will from going out; a new one
    // means the previous session ended, which publishes it now.
    if (opened.sessionPresent) this.context.wills.cancel(opened.session.clientId);
    else this.context.wills.publishNow(opened.session.clientId);
    if (this.closed) {
      await this.context.registry.detach(opened.session, this);
      return;
    }
    const limits = this.context.limits;
    const properties: MqttProperties = {};
    if (v5) {
      properties.receiveMaximum = limits.receiveMaximum;
      properties.maximumPacketSize = limits.maxPacketBytes;
      properties.topicAliasMaximum = limits.topicAliasMaximum;
      properties.retainAvailable = 1;
      properties.wildcardSubscriptionAvailable = 1;
      properties.subscriptionIdentifierAvailable = 0;
      properties.sharedSubscriptionAvailable = 1;
      if (opened.assignedClientId !== undefined) properties.assignedClientIdentifier = opened.assignedClientId;
      if (opened.expiryIntervalSec !== (packet.properties.sessionExpiryInterval ?? 0)) properties.sessionExpiryInterval = opened.expiryIntervalSec;
    }
    this.send([{ type: PacketType.CONNACK, sessionPresent: opened.sessionPresent, reasonCode: 0, properties }]);
    // §3.1.2.10: the server closes after one and a half times the keep alive without a packet.
    this.keepAliveMs = packet.keepAliveSeconds * 1500;
    this.armKeepAlive(this.keepAliveMs);
    this.delivery = this.context.startDelivery(this, opened.session, auth.principal);
  }

  private refuseConnect(reasonCode: ReasonCodeValue, returnCode: number, message: string): void {
    this.willCancelled = true;
    const v5 = this.version === ProtocolVersion.v5;
    this.send([{ type: PacketType.CONNACK, sessionPresent: false, reasonCode: v5 ? reasonCode : returnCode, properties: v5 ? { reasonString: message } : {} }]);
    this.end();
  }

  private onPacket(packet: MqttPacket): void {
    switch (packet.type) {
      case PacketType.PUBLISH:
        return this.onPublish(packet);
      case PacketType.PUBREL:
        return this.answerWith(this.release(packet.packetId));
      case PacketType.SUBSCRIBE:
        return this.answerWith(this.delivery!.subscribe(packet));
      case PacketType.UNSUBSCRIBE:
        return this.answerWith(this.delivery!.unsubscribe(packet));
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBCOMP:
        this.delivery?.acknowledged(packet);
        return;
      case PacketType.PINGREQ:
        return this.answerWith(Promise.resolve({ type: PacketType.PINGRESP }));
      case PacketType.DISCONNECT: {
        if (this.version === ProtocolVersion.v5) {
          const expiry = packet.properties.sessionExpiryInterval;
          if (expiry !== undefined && this.session !== undefined) {
            // §3.14.2.2.2: a session created with expiry 0 may not be given one at DISCONNECT.
            if (!this.session.persistent && expiry > 0) throw protocolError('session expiry set at DISCONNECT on a session opened without one');
            this.session.state.expiryIntervalSec = expiry;
          }
          this.willCancelled = packet.reasonCode !== ReasonCode.DisconnectWithWill;
        } else {
          this.willCancelled = true;
        }
        this.end();
        return;
      }
      default:
        throw protocolError(`a client may not send packet type ${packet.type}`);
    }
  }

  private topicOf(packet: PublishPacket): string {
    const alias = packet.properties.topicAlias;
    if (alias === undefined) return packet.topic;
    if (alias > this.context.limits.topicAliasMaximum) throw new MqttProtocolError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} is above the maximum ${this.context.limits.topicAliasMaximum}`);
    if (packet.topic !== '') {
      this.aliases.set(alias, packet.topic);
      return packet.topic;
    }
    const topic = this.aliases.get(alias);
    if (topic === undefined) throw protocolError(`topic alias ${alias} was never set`);
    return topic;
  }

  private onPublish(packet: PublishPacket): void {
    const topic = this.topicOf(packet);
    const principal = this.principal!;
    const ingest = this.context.ingest;
    if (packet.qos === 0) {
      this.track(ingest.publish(packet, topic, principal, 0)).catch((error: unknown) => {
        if (!(error instanceof MqttProtocolError)) this.context.onError(error, this.remoteAddress);
      });
      return;
    }
    if (this.inboundInFlight >= this.context.limits.receiveMaximum && !(packet.qos === 2 && this.qos2InFlight.has(packet.packetId!))) {
      throw new MqttProtocolError(ReasonCode.ReceiveMaximumExceeded, `more than ${this.context.limits.receiveMaximum} unacknowledged QoS 1 and 2 messages`);
    }
    const packetId = packet.packetId!;
    if (packet.qos === 1) {
      this.inboundInFlight++;
      const slot: Slot = { done: false, packets: [] };
      this.slots.push(slot);
      ingest.publishThen(packet, topic, principal, 1, {
        appended: () => {
          this.inboundInFlight--;
          this.answer(slot, { type: PacketType.PUBACK, packetId, reasonCode: ReasonCode.Success, properties: NO_PROPERTIES });
        },
        failed: (error) => {
          this.inboundInFlight--;
          try {
            this.answer(slot, this.refusal(PacketType.PUBACK, packetId, error));
          } catch (fatal) {
            this.fail(fatal);
          }
        },
      });
      return;
    }
    if (!this.qos2InFlight.has(packetId)) {
      this.qos2InFlight.add(packetId);
      this.inboundInFlight++;
    }
    this.answerWith(this.ack(PacketType.PUBREC, packetId, this.receiveQos2(packet, topic, principal)));
  }

  /**
   * QoS 2 receive (§4.3.3, method B of the specification: the message is passed on at PUBLISH and
   * its packet id kept until PUBREL). The intent (packet id → partition, sequence) is durable
   * before the append, and the sequence is the partition's next one for the session's producer,
   * so a retry after a cut or a crash finds its sequence already in the log and appends nothing.
   */
  private receiveQos2(packet: PublishPacket, topic: string, principal: MqttPrincipal): Promise<void> {
    const session = this.session!;
    const ingest = this.context.ingest;
    return this.track(
      session.steps.run(async () => {
        const state = session.state;
        const id = String(packet.packetId);
        const target = await ingest.target(packet, topic, principal);
        const last = ingest.lastSequence(target, state.producerId, state.producerEpoch);
        const existing = state.pendingQos2[id];
        const sameTarget = existing !== undefined && existing[0] === target.topic && existing[1] === target.partition;
        if (sameTarget && existing[2] <= last) return;
        // Not in the log (new, or a stale intent from before a crash): the partition's next sequence.
        const sequence = last + 1;
        if (!sameTarget || existing[2] !== sequence) {
          state.pendingQos2[id] = [target.topic, target.partition, sequence];
          await session.persist();
        }
        try {
          await ingest.appendIdempotent(target, state.producerId, state.producerEpoch, sequence);
        } catch (error) {
          delete state.pendingQos2[id];
          await session.persist();
          throw error;
        }
      }),
    );
  }

  private release(packetId: number): Promise<MqttPacket> {
    const session = this.session!;
    return this.track(
      session.steps.run(async () => {
        const id = String(packetId);
        const known = session.state.pendingQos2[id] !== undefined;
        if (known) {
          delete session.state.pendingQos2[id];
          await session.persist();
        }
        if (this.qos2InFlight.delete(packetId)) this.inboundInFlight--;
        const reasonCode = known || this.version !== ProtocolVersion.v5 ? 0 : ReasonCode.PacketIdentifierNotFound;
        return { type: PacketType.PUBCOMP, packetId, reasonCode, properties: {} } satisfies MqttPacket;
      }),
    );
  }

  /** The acknowledgement of a QoS 1 or 2 PUBLISH: success once `done` resolves, its reason code if it fails (3.1.1 has none: the connection closes). */
  private async ack(type: typeof PacketType.PUBACK | typeof PacketType.PUBREC, packetId: number, done: Promise<void>): Promise<MqttPacket> {
    try {
      await done;
      return { type, packetId, reasonCode: ReasonCode.Success, properties: {} };
    } catch (error) {
      return this.refusal(type, packetId, error);
    }
  }

  /** The answer to a PUBLISH that failed (3.1.1 has none: throws, and the connection closes). */
  private refusal(type: typeof PacketType.PUBACK | typeof PacketType.PUBREC, packetId: number, error: unknown): MqttPacket {
    if (!(error instanceof MqttProtocolError)) {
      this.context.onError(error, this.remoteAddress);
      if (this.version !== ProtocolVersion.v5) throw error;
      if (type === PacketType.PUBREC && this.qos2InFlight.delete(packetId)) this.inboundInFlight--;
      return { type, packetId, reasonCode: ReasonCode.UnspecifiedError, properties: { reasonString: error instanceof Error ? error.message : String(error) } };
    }
    if (this.version !== ProtocolVersion.v5) throw error;
    if (type === PacketType.PUBREC && this.qos2InFlight.delete(packetId)) this.inboundInFlight--;
    // A refused message (topic, authorization, payload format) is answered, not fatal (§3.4.2.1).
    return { type, packetId, reasonCode: error.reasonCode, properties: { reasonString: error.message } };
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.catch(() => undefined);
    this.work = Promise.all([this.work, settled]);
    return promise;
  }

  private answerWith(answer: Promise<MqttPacket>): void {
    const slot: Slot = { done: false, packets: [] };
    this.slots.push(slot);
    answer.then(
      (packet) => this.answer(slot, packet),
      (error: unknown) => this.fail(error),
    );
  }

  private answer(slot: Slot, packet: MqttPacket): void {
    slot.done = true;
    slot.packets.push(packet);
    this.scheduleFlush();
  }

  /**
   * Answers that became ready in one event loop turn (the PUBACKs of one group commit, say) leave
   * in one socket write, not one write each.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private takeReady(): MqttPacket[] {
    const ready: MqttPacket[] = [];
    while (this.slots.length > 0 && this.slots[0]!.done) ready.push(...this.slots.shift()!.packets);
    return ready;
  }

  private flush(): void {
    const ready = this.takeReady();
    if (ready.length > 0) this.write(ready);
    if (this.slots.length < MAX_QUEUED_PACKETS && !this.pumping && this.incoming.length > 0) void this.pump();
  }

  /**
   * Writes packets now (deliveries, CONNACK, DISCONNECT; answers go through their slots), after
   * any answer already ready, so a SUBACK precedes the retained messages its SUBSCRIBE sends.
   */
  send(packets: readonly MqttPacket[]): boolean {
    const ready = this.takeReady();
    return this.write(ready.length === 0 ? packets : [...ready, ...packets]);
  }

  private write(packets: readonly MqttPacket[]): boolean {
    if (!this.socket.writable) return false;
    // Sized for a run of four-byte acknowledgements; a PUBLISH grows it.
    const out = new MqttWriter(packets.length * 4);
    for (const packet of packets) writePacket(out, packet, this.version);
    return this.socket.write(out.finish());
  }

  /** Registers for the socket's next `drain` (deliveries wait on it when the socket's buffer is full). */
  onDrain(listener: () => void): void {
    this.socket.onceDrain(listener);
  }

  private armKeepAlive(ms: number): void {
    clearTimeout(this.keepAliveTimer);
    if (ms <= 0 || this.closed) return;
    this.keepAliveTimer = setTimeout(() => this.disconnect(ReasonCode.KeepAliveTimeout, 'keep alive timeout'), ms);
    (this.keepAliveTimer as { unref?: () => void }).unref?.();
  }

  private fail(error: unknown): void {
    if (error instanceof MqttProtocolError) {
      if (this.connect === undefined && error.reasonCode === ReasonCode.UnsupportedProtocolVersion) {
        // Answered in 3.1.1's format, which every client can read (§3.1.2.2).
        this.socket.write(Uint8Array.from([0x20, 0x02, 0x00, ConnectReturnCode.UnacceptableProtocolVersion]));
        this.socket.end();
        this.closed = true;
        return;
      }
      this.disconnect(error.reasonCode, error.message);
      return;
    }
    this.context.onError(error, this.remoteAddress);
    this.disconnect(ReasonCode.ImplementationSpecificError, 'internal error');
  }

  /** Ends the connection with a reason code: DISCONNECT on MQTT 5 after CONNECT, a bare close otherwise. */
  disconnect(reasonCode: ReasonCodeValue, message: string): void {
    if (this.closed) return;
    if (this.version === ProtocolVersion.v5 && this.connect !== undefined) {
      this.send([{ type: PacketType.DISCONNECT, reasonCode, properties: { reasonString: message.slice(0, 200) } }]);
    }
    this.end();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.keepAliveTimer);
    this.socket.end();
    // A client that does not close its side is cut after a grace period.
    setTimeout(() => this.socket.destroy(), 2_000).unref?.();
  }

  async takeOver(): Promise<void> {
    this.willCancelled = false;
    this.disconnect(ReasonCode.SessionTakenOver, 'another connection took over the session');
    this.socket.destroy();
    await this.closedPromise;
    await this.work;
  }

  private async onClose(): Promise<void> {
    this.closed = true;
    clearTimeout(this.keepAliveTimer);
    this.delivery?.close();
    const session = this.session;
    const { connect, principal } = this;
    if (connect?.will !== undefined && !this.willCancelled && principal !== undefined) {
      const work = this.work;
      this.context.wills.schedule(session?.clientId ?? connect.clientId, this.willDelayMs(connect, connect.will), async () => {
        await work;
        await this.context.publishWill(connect, principal);
      });
    }
    await this.work;
    if (session !== undefined) await this.context.registry.detach(session, this).catch((error: unknown) => this.context.onError(error, this.remoteAddress));
  }

  /**
   * §3.1.3.2.2: the will waits for its Will Delay Interval (MQTT 5) or the end of the session,
   * whichever comes first; a session that ends with the connection publishes it at once.
   */
  private willDelayMs(connect: ConnectPacket, will: Will): number {
    const session = this.session;
    if (connect.protocolVersion !== ProtocolVersion.v5 || session === undefined || !session.persistent) return 0;
    return Math.min(will.properties.willDelayInterval ?? 0, session.state.expiryIntervalSec) * 1000;
  }

  /** Closes without a reason (broker shutdown); resolves once the socket is closed. */
  close(): Promise<void> {
    this.disconnect(ReasonCode.ServerShuttingDown, 'the broker is shutting down');
    this.willCancelled = true;
    return this.closedPromise;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
