/** Starts a timer; returns what cancels it. */
export type StartTimer = (run: () => void, delayMs: number) => () => void;

const realTimer: StartTimer = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  (timer as { unref?: () => void }).unref?.();
  return () => clearTimeout(timer);
};

interface PendingWill {
  cancelTimer: () => void;
  publish: () => Promise<void>;
}

/**
 * Wills waiting out their delay (MQTT 5 §3.1.3.2.2): a will is published once its Will Delay
 * Interval has passed or its session ended, whichever comes first, and not at all when a
 * connection resumes the session before then. One per client id (a client's next will can only
 * come from a connection that resumed or replaced the session, which settled the previous one),
 * so the map is bounded by the sessions.
 */
export class MqttWillScheduler {
  private readonly pending = new Map<string, PendingWill>();
  /** Publishes started and not finished, awaited by `close`. */
  private readonly publishing = new Set<Promise<void>>();

  constructor(
    private readonly onError: (error: unknown) => void,
    private readonly startTimer: StartTimer = realTimer,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Publishes now when `delayMs` is 0, else once it has passed unless a connection resumes the session first. */
  schedule(clientId: string, delayMs: number, publish: () => Promise<void>): void {
    this.publishNow(clientId);
    if (delayMs <= 0) {
      this.run(publish);
      return;
    }
    const cancelTimer = this.startTimer(() => this.publishNow(clientId), delayMs);
    this.pending.set(clientId, { cancelTimer, publish });
  }

  /** A connection resumed the client's session: its pending will is never published. */
  cancel(clientId: string): void {
    const will = this.pending.get(clientId);
    if (will === undefined) return;
    this.pending.delete(clientId);
    will.cancelTimer();
  }

  /** The client's session ended (a clean start replaced it, or its delay passed): its pending will goes out now. */
  publishNow(clientId: string): void {
    const will = this.pending.get(clientId);
    if (will === undefined) return;
    this.pending.delete(clientId);
    will.cancelTimer();
    this.run(will.publish);
  }

  /** The broker is shutting down: every pending will is published now (§3.1.2.5 allows it), and awaited. */
  async close(): Promise<void> {
    for (const clientId of [...this.pending.keys()]) this.publishNow(clientId);
    await Promise.all(this.publishing);
  }

  private run(publish: () => Promise<void>): void {
    const running = publish()
      .catch((error: unknown) => this.onError(error))
      .finally(() => this.publishing.delete(running));
    this.publishing.add(running);
  }
}
