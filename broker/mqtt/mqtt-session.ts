import { SerialQueue } from '../serial-queue.ts';
import type { MqttSessionStore, StoredSession } from './mqtt-session-store.ts';

/** What a session needs from the connection currently attached to it. */
export interface SessionOwner {
  /** Ends the connection with this MQTT 5 reason code (DISCONNECT first on MQTT 5); resolves once it is closed and idle. */
  takeOver(): Promise<void>;
}

/**
 * A client's session as it lives in the broker: its stored state, the connection attached to it
 * (if any), and one queue through which every QoS 2 step and state write goes, so the session's
 * appends happen one at a time in sequence order and each write of its state is in order.
 */
export class MqttSession {
  readonly steps = new SerialQueue();
  owner: SessionOwner | undefined;

  constructor(
    readonly state: StoredSession,
    /** Durable sessions write their state through the store; a clean session lives in memory only. */
    private readonly store: MqttSessionStore | undefined,
  ) {}

  get clientId(): string {
    return this.state.clientId;
  }

  get persistent(): boolean {
    return this.store !== undefined;
  }

  /** Resolves once the state is durable (at once for a clean session). */
  persist(): Promise<void> {
    return this.store === undefined ? Promise.resolve() : this.store.put(this.state);
  }
}
