import { randomUUID } from 'node:crypto';
import type { Broker } from '../broker.ts';
import type { ConnectPacket } from './mqtt-packet.ts';
import { ProtocolVersion } from './mqtt-packet.ts';
import { MqttSession, type SessionOwner } from './mqtt-session.ts';
import type { MqttSessionStore, StoredSession } from './mqtt-session-store.ts';

/** Session expiry meaning "never" (§3.1.2.11.2), what 3.1.1's clean session = 0 amounts to. */
export const SESSION_NEVER_EXPIRES = 0xffff_ffff;

export interface OpenedSession {
  session: MqttSession;
  sessionPresent: boolean;
  /** Set when the client sent an empty client id and the broker chose one. */
  assignedClientId?: string;
  /** The expiry the broker grants (capped), in seconds. */
  expiryIntervalSec: number;
}

/**
 * Every session, live or stored, by client id: CONNECT attaches a connection to one (taking it
 * over from a connection already attached), clean start discards the stored state, a persistent
 * session is written before CONNACK, and a clean one is dropped when its connection goes.
 */
export class MqttSessionRegistry {
  private readonly live = new Map<string, MqttSession>();
  /** Client ids whose CONNECT is being handled, so two CONNECTs for one id run one after the other. */
  private readonly opening = new Map<string, Promise<unknown>>();

  constructor(
    private readonly broker: Broker,
    private readonly store: MqttSessionStore,
    private readonly maxSessionExpirySec: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get liveCount(): number {
    return this.live.size;
  }

  /** The session a client id resolves to now, live or stored (tests and admin). */
  stored(clientId: string): StoredSession | undefined {
    return this.store.get(clientId);
  }

  async open(connect: ConnectPacket, owner: SessionOwner): Promise<OpenedSession> {
    const assigned = connect.clientId === '' ? `rill-${randomUUID()}` : undefined;
    const clientId = assigned ?? connect.clientId;
    const previous = this.opening.get(clientId) ?? Promise.resolve();
    const opened = previous.catch(() => undefined).then(() => this.openNow(connect, clientId, owner, assigned));
    this.opening.set(clientId, opened);
    try {
      return await opened;
    } finally {
      if (this.opening.get(clientId) === opened) this.opening.delete(clientId);
    }
  }

  private async openNow(connect: ConnectPacket, clientId: string, owner: SessionOwner, assigned: string | undefined): Promise<OpenedSession> {
    const existing = this.live.get(clientId);
    const previousOwner = existing?.owner;
    if (existing !== undefined && previousOwner !== undefined) {
      // Detached first, so the old connection's own detach leaves the session alone.
      existing.owner = undefined;
      await previousOwner.takeOver();
    }
    // Whatever the previous connection started (a QoS 2 append, a state write) finishes first.
    if (existing !== undefined) await existing.steps.run(async () => undefined);
    const requested =
      connect.protocolVersion === ProtocolVersion.v5 ? (connect.properties.sessionExpiryInterval ?? 0) : connect.cleanStart ? 0 : SESSION_NEVER_EXPIRES;
    const expiryIntervalSec = Math.min(requested, this.maxSessionExpirySec);
    let stored = existing?.state ?? this.store.get(clientId);
    if (stored !== undefined && this.store.isExpired(stored, this.nowMs())) stored = undefined;
    if (connect.cleanStart || stored === undefined) {
      if (stored !== undefined || this.store.get(clientId) !== undefined) await this.store.remove(clientId);
      stored = undefined;
    }
    const sessionPresent = stored !== undefined;
    const state: StoredSession = stored ?? (await this.newState(clientId));
    state.expiryIntervalSec = expiryIntervalSec;
    delete state.disconnectedAtMs;
    const session = new MqttSession(state, expiryIntervalSec > 0 ? this.store : undefined);
    session.owner = owner;
    this.live.set(clientId, session);
    if (session.persistent) await session.persist();
    else if (this.store.get(clientId) !== undefined) await this.store.remove(clientId);
    return { session, sessionPresent, ...(assigned === undefined ? {} : { assignedClientId: assigned }), expiryIntervalSec };
  }

  private async newState(clientId: string): Promise<StoredSession> {
    // One idempotent producer per session: its sequence numbers are how QoS 2 retries are recognised.
    const { errorCode, producerId, producerEpoch } = await this.broker.transactions.initProducerId(null, 0);
    if (errorCode !== 0) throw new Error(`invariant: no producer id for MQTT session ${clientId} (error ${errorCode})`);
    return { clientId, producerId, producerEpoch, pendingQos2: {}, subscriptions: [], positions: {}, expiryIntervalSec: 0 };
  }

  /** The connection left: a persistent session stays (stamped with the time), a clean one goes. */
  async detach(session: MqttSession, owner: SessionOwner): Promise<void> {
    if (session.owner !== owner) return;
    session.owner = undefined;
    await session.steps.run(async () => {
      if (session.owner !== undefined) return;
      if (session.persistent && session.state.expiryIntervalSec > 0) {
        session.state.disconnectedAtMs = this.nowMs();
        await session.persist();
      } else {
        await this.store.remove(session.clientId);
      }
      if (this.live.get(session.clientId) === session) this.live.delete(session.clientId);
    });
  }

  /** Drops stored sessions whose expiry has passed. */
  async expire(): Promise<number> {
    const expired = this.store.expired(this.nowMs()).filter((id) => this.live.get(id)?.owner === undefined);
    for (const id of expired) {
      this.live.delete(id);
      await this.store.remove(id);
    }
    return expired.length;
  }
}
