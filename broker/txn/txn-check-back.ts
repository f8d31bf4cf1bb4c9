import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import {
  type CheckAnswer,
  type CheckerRegistration,
  type CheckEvent,
  type CheckOutcome,
  type CheckStatusValue,
  checkDetail,
  decodeCheckEvent,
  decodeCheckKey,
  decodeRegistration,
  encodeCheckEvent,
  encodeCheckKey,
  TRANSACTION_CHECKERS_TOPIC,
  TRANSACTION_CHECKS_TOPIC,
} from '../../sdk/client/txn-check/txn-check-format.ts';
import { INTERNAL_TOPIC_CONFIG, type InternalTopics } from '../internal-topics.ts';
import type { AcksValue } from '../log/acks.ts';
import type { AppendResult } from '../log/partition-log.ts';
import type { TxnConfig } from './txn-config.ts';
import type { TxnCheckBackHooks } from './txn-coordinator.ts';
import type { TxnMetadata } from './txn-metadata.ts';
import { postJson } from './webhook-post.ts';

/** The audit trail is the checks topic itself; a week of it is kept (Kafka's default retention). */
const CHECKS_TOPIC_CONFIG = { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 24 * 60 * 60 * 1000) };
/** Webhook calls in flight at once; checks past it wait for the next timer tick (their attempt is not spent). */
const MAX_WEBHOOKS_IN_FLIGHT = 32;
/** Bound on the size of a webhook's answer body that is read. */
const MAX_WEBHOOK_ANSWER_BYTES = 4096;

/** What the check-back needs of the transaction coordinator. */
export interface CheckedCoordinator {
  describe(transactionalId: string): Readonly<TxnMetadata> | undefined;
  resolveCheck(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number>;
}

export interface TxnCheckBackHost {
  nowMs(): number;
  /** One line of the broker's log (the audit log) per check, answer and outcome. */
  log(fields: { [key: string]: unknown }): void;
}

/** Counts since the broker started, for metrics. */
export interface TxnCheckStats {
  checks: number;
  answers: { commit: number; abort: number; unknown: number };
  committed: number;
  aborted: number;
  /** Aborted because no attempt got a decisive answer. */
  exhausted: number;
}

interface PendingCheck {
  transactionalId: string;
  /** The identity the checked producer instance held. */
  producerId: number;
  producerEpoch: number;
  txnStartMs: number;
  partitions: { topic: string; partition: number }[];
  attempts: number;
  /** When the current attempt has waited long enough for its answer. */
  dueMs: number;
  running: boolean;
  /** Written to the checks topic but not applied yet (the coordinator could not); applied on the next tick. */
  decided: CheckOutcome | undefined;
  /** A decisive answer a restart found in the checks topic without its outcome: decided on the next tick. */
  answered: 'commit' | 'abort' | undefined;
}

/**
 * Transaction check-back (RocketMQ's half-message check on Kafka transactions): a transaction of
 * an id with a registered checker is not aborted when it outlives its timeout (or when a new
 * instance calls InitProducerId); the coordinator fences the producer, moves the transaction to
 * Checking and asks the checker whether the producer's local transaction committed, then commits
 * or aborts it through the same path as EndTxn.
 *
 * Each attempt appends a check record to `__transaction_checks`; a `topic` checker (the SDK's
 * TransactionChecker) reads it and produces an answer record there; a `webhook` checker is POSTed
 * the check as JSON and its answer is appended by the broker. `commit` or `abort` decides; an
 * `unknown` answer, none within `checkIntervalMs`, or a failed webhook call leads to the next
 * attempt, and after `checkMaxAttempts` the transaction is aborted. The decision is appended as an
 * outcome record before it is acted on, so a restart honours it; a restart with no decision
 * resumes the attempts counted from the check records. Formats: txn-check-format.ts.
 */
export class TxnCheckBack implements TxnCheckBackHooks {
  private readonly checkers = new Map<string, CheckerRegistration>();
  /** One per transaction in Checking: bounded by the coordinator's transactional ids. */
  private readonly pending = new Map<string, PendingCheck>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private webhooksInFlight = 0;
  private closed = false;
  /** Cuts webhook calls short when the broker closes. */
  private readonly closing = new AbortController();
  private readonly counts: TxnCheckStats = { checks: 0, answers: { commit: 0, abort: 0, unknown: 0 }, committed: 0, aborted: 0, exhausted: 0 };

  constructor(
    private readonly topics: InternalTopics,
    private readonly coordinator: CheckedCoordinator,
    private readonly config: TxnConfig,
    private readonly host: TxnCheckBackHost,
  ) {}

  get stats(): Readonly<TxnCheckStats> {
    return { ...this.counts, answers: { ...this.counts.answers } };
  }

  /** Transactions waiting on a check right now. */
  get pendingCount(): number {
    return this.pending.size;
  }

  registration(transactionalId: string): CheckerRegistration | undefined {
    return this.checkers.get(transactionalId);
  }

  registered(transactionalId: string): boolean {
    return this.checkers.has(transactionalId);
  }

  /**
   * Creates `name` when it is one of the check-back topics (on a client's Metadata request: the
   * SDK registers and answers through them) and says whether it was.
   */
  async ensureTopic(name: string): Promise<boolean> {
    if (name === TRANSACTION_CHECKERS_TOPIC) await this.topics.create(name, { partitions: 1, config: INTERNAL_TOPIC_CONFIG });
    else if (name === TRANSACTION_CHECKS_TOPIC) await this.topics.create(name, { partitions: 1, config: CHECKS_TOPIC_CONFIG });
    else return false;
    return true;
  }

  /** Rebuilds the registrations, then resumes (or applies the recorded decisions of) the transactions in Checking. */
  async load(checking: readonly Readonly<TxnMetadata>[]): Promise<void> {
    if (this.topics.partitionCount(TRANSACTION_CHECKERS_TOPIC) !== undefined) {
      await this.topics.replay(TRANSACTION_CHECKERS_TOPIC, 0, (record) => {
        try {
          this.applyRegistration(decodeCheckKey(record.key), decodeRegistration(record.value));
        } catch {
          // Registrations were validated when produced; one this broker cannot read is skipped.
        }
      });
    }
    for (const meta of checking) this.begin(meta, this.host.nowMs() + this.config.checkIntervalMs);
    if (checking.length === 0 || this.topics.partitionCount(TRANSACTION_CHECKS_TOPIC) === undefined) return;
    await this.topics.replay(TRANSACTION_CHECKS_TOPIC, 0, (record) => {
      let event: CheckEvent;
      try {
        event = decodeCheckEvent(record.key, record.value);
      } catch {
        return;
      }
      const p = this.pending.get(event.transactionalId);
      if (p === undefined || p.producerId !== event.producerId || p.producerEpoch !== event.producerEpoch) return;
      if (event.type === 'check') p.attempts = Math.max(p.attempts, event.attempt);
      else if (event.type === 'outcome') p.decided = event;
      else if (event.status !== 'unknown' && p.answered === undefined) p.answered = event.status;
    });
  }

  /** A transaction that just entered Checking: its first attempt goes out on the next tick (or at `dueMs`). */
  begin(meta: Readonly<TxnMetadata>, dueMs = this.host.nowMs()): void {
    this.pending.set(meta.transactionalId, {
      transactionalId: meta.transactionalId,
      producerId: meta.lastProducerId,
      producerEpoch: meta.lastProducerEpoch,
      txnStartMs: meta.txnStartMs,
      partitions: [...meta.partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition })),
      attempts: 0,
      dueMs,
      running: false,
      decided: undefined,
      answered: undefined,
    });
  }

  /**
   * Timer work: starts the attempts that are due, gives up on exhausted ones, applies decisions
   * the coordinator could not take yet. It does not wait for them: a slow webhook must not hold up
   * the broker's other timers. A failed step is tried again on a later tick.
   */
  runTimers(): void {
    const nowMs = this.host.nowMs();
    for (const p of [...this.pending.values()]) {
      if (this.closed || p.running) continue;
      if (p.decided !== undefined) this.run(p, () => this.apply(p));
      else if (p.answered !== undefined) this.run(p, () => this.decide(p, p.answered!, 'answer'));
      else if (nowMs < p.dueMs) continue;
      else if (!this.checkers.has(p.transactionalId)) this.run(p, () => this.decide(p, 'abort', 'checker-unregistered'));
      else if (p.attempts >= this.config.checkMaxAttempts) this.run(p, () => this.decide(p, 'abort', 'attempts-exhausted'));
      else if (this.checkers.get(p.transactionalId)!.kind === 'topic') this.run(p, () => this.attempt(p));
      else if (this.webhooksInFlight < MAX_WEBHOOKS_IN_FLIGHT) {
        this.webhooksInFlight++;
        this.run(p, () => this.attempt(p).finally(() => this.webhooksInFlight--));
      }
    }
  }

  private run(p: PendingCheck, work: () => Promise<void>): void {
    p.running = true;
    const done = work()
      .catch(() => undefined)
      .finally(() => {
        p.running = false;
        this.inFlight.delete(done);
      });
    this.inFlight.add(done);
  }

  private async append(event: CheckEvent): Promise<void> {
    await this.ensureTopic(TRANSACTION_CHECKS_TOPIC);
    const builder = new RecordBatchBuilder({ clock: () => this.host.nowMs() });
    builder.append({ key: encodeCheckKey(event.transactionalId), value: encodeCheckEvent(event) });
    await this.topics.append(TRANSACTION_CHECKS_TOPIC, 0, builder.seal());
  }

  /** What a check asks, as the checks topic records it and a webhook receives it. */
  private checkRequest(p: PendingCheck, attempt: number) {
    return {
      transactionalId: p.transactionalId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      attempt,
      maxAttempts: this.config.checkMaxAttempts,
      txnStartMs: p.txnStartMs,
      partitions: p.partitions,
    };
  }

  private async attempt(p: PendingCheck): Promise<void> {
    const registration = this.checkers.get(p.transactionalId)!;
    const attempt = p.attempts + 1;
    await this.append({ type: 'check', ...this.checkRequest(p, attempt), via: registration.kind });
    p.attempts = attempt;
    p.dueMs = this.host.nowMs() + this.config.checkIntervalMs;
    this.counts.checks++;
    this.host.log({ event: 'transaction-check', transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, attempt, via: registration.kind });
    if (registration.kind === 'webhook') {
      const answer = await this.callWebhook(p, attempt, registration.url, registration.timeoutMs);
      await this.append(answer);
      await this.onAnswer(answer);
    }
  }

  /** POSTs the check; any failure (network, timeout, status, body) is an `unknown` answer with why. */
  private async callWebhook(p: PendingCheck, attempt: number, url: string, timeoutMs: number): Promise<CheckAnswer> {
    const answer = (status: CheckStatusValue, detail?: string): CheckAnswer => ({
      type: 'answer',
      transactionalId: p.transactionalId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      attempt,
      status,
      source: 'webhook',
      ...(detail === undefined ? {} : { detail: checkDetail(detail) }),
    });
    try {
      const reply = await postJson(
        url,
        JSON.stringify(this.checkRequest(p, attempt)),
        { timeoutMs, maxBodyBytes: MAX_WEBHOOK_ANSWER_BYTES, signal: this.closing.signal },
      );
      if (reply.status < 200 || reply.status > 299) return answer('unknown', `webhook answered HTTP ${reply.status}`);
      let body: unknown;
      try {
        body = JSON.parse(reply.body);
      } catch {
        return answer('unknown', 'webhook answer is not JSON');
      }
      const status = (body as { status?: unknown } | null)?.status;
      if (status === 'commit' || status === 'abort' || status === 'unknown') return answer(status);
      return answer('unknown', 'webhook answer has no status "commit", "abort" or "unknown"');
    } catch (error) {
      return answer('unknown', `webhook call failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** An answer already appended to the checks topic: a decisive one for the pending check decides it. */
  private async onAnswer(answer: CheckAnswer): Promise<void> {
    this.counts.answers[answer.status]++;
    this.host.log({
      event: 'transaction-check-answer',
      transactionalId: answer.transactionalId,
      producerId: answer.producerId,
      producerEpoch: answer.producerEpoch,
      attempt: answer.attempt,
      status: answer.status,
      source: answer.source,
      ...(answer.detail === undefined ? {} : { detail: answer.detail }),
    });
    const p = this.pending.get(answer.transactionalId);
    if (answer.status === 'unknown' || p === undefined || p.decided !== undefined) return;
    if (p.producerId !== answer.producerId || p.producerEpoch !== answer.producerEpoch) return;
    await this.decide(p, answer.status, 'answer');
  }

  private outcome(p: PendingCheck, result: 'commit' | 'abort', reason: CheckOutcome['reason']): CheckOutcome {
    return { type: 'outcome', transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, result, reason, attempts: p.attempts };
  }

  /** Records the decision durably, then applies it. */
  private async decide(p: PendingCheck, result: 'commit' | 'abort', reason: CheckOutcome['reason']): Promise<void> {
    if (p.decided !== undefined) return;
    const outcome = this.outcome(p, result, reason);
    p.decided = outcome;
    try {
      await this.append(outcome);
    } catch (error) {
      p.decided = undefined;
      throw error;
    }
    if (reason === 'attempts-exhausted') this.counts.exhausted++;
    this.host.log({ event: 'transaction-check-outcome', transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, result, reason, attempts: p.attempts });
    await this.apply(p);
  }

  /** Commits or aborts through the coordinator; a store failure leaves the decision for the next tick. */
  private async apply(p: PendingCheck): Promise<void> {
    const outcome = p.decided;
    if (outcome === undefined) throw new Error(`invariant broken: applying the check of "${p.transactionalId}" before a decision`);
    const errorCode = await this.coordinator.resolveCheck(p.transactionalId, p.producerId, p.producerEpoch, outcome.result === 'commit');
    if (errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE || errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) return;
    if (this.pending.get(p.transactionalId) === p) this.pending.delete(p.transactionalId);
    if (errorCode === 0) this.counts[outcome.result === 'commit' ? 'committed' : 'aborted']++;
  }

  private applyRegistration(transactionalId: string, registration: CheckerRegistration | null): void {
    if (registration === null) this.checkers.delete(transactionalId);
    else this.checkers.set(transactionalId, registration);
  }

  /**
   * A client's Produce to a check-back topic: registrations to `__transaction_checkers`, answers to
   * `__transaction_checks`. Every record is validated first (a bad one fails the whole append with
   * a typed error and nothing is written), then appended through `append`, then applied.
   */
  async produce(topic: string, batches: Uint8Array, append: () => Promise<AppendResult>): Promise<AppendResult> {
    const records = [...readRecordBatches(batches, { strict: true })].flatMap((batch) => [...batch.records()]);
    if (topic === TRANSACTION_CHECKERS_TOPIC) {
      const registrations = records.map((r) => ({ transactionalId: decodeCheckKey(r.key), registration: decodeRegistration(r.value) }));
      const added = new Set(registrations.filter((r) => r.registration !== null && !this.checkers.has(r.transactionalId)).map((r) => r.transactionalId));
      if (this.checkers.size + added.size > this.config.maxTransactionalIds) {
        throw new KafkaError('POLICY_VIOLATION', `the broker holds at most ${this.config.maxTransactionalIds} checker registrations`);
      }
      const result = await append();
      for (const r of registrations) this.applyRegistration(r.transactionalId, r.registration);
      return result;
    }
    const answers = records.map((r) => {
      const event = decodeCheckEvent(r.key, r.value);
      if (event.type !== 'answer' || event.source !== 'checker') {
        throw new KafkaError('INVALID_RECORD', `clients write only checker answers to ${TRANSACTION_CHECKS_TOPIC}; the coordinator writes its checks and outcomes`);
      }
      this.assertAnswerable(event);
      return event;
    });
    const result = await append();
    for (const answer of answers) await this.onAnswer(answer);
    return result;
  }

  /** Whether an answer names the pending check of its id: a typed error says why not. */
  private assertAnswerable(answer: CheckAnswer): void {
    const id = answer.transactionalId;
    const p = this.pending.get(id);
    const meta = this.coordinator.describe(id);
    if (meta === undefined && p === undefined) throw new KafkaError('TRANSACTIONAL_ID_NOT_FOUND', `no transactional id "${id}" is known to the coordinator`);
    if (p !== undefined && (p.producerId !== answer.producerId || p.producerEpoch !== answer.producerEpoch)) {
      throw new KafkaError(
        'INVALID_PRODUCER_EPOCH',
        `the answer names producer ${answer.producerId} epoch ${answer.producerEpoch}; the pending check of "${id}" is for producer ${p.producerId} epoch ${p.producerEpoch}`,
      );
    }
    if (p === undefined || p.decided !== undefined) {
      const stale = meta !== undefined && (answer.producerId !== meta.producerId || answer.producerEpoch < meta.producerEpoch);
      throw new KafkaError(
        stale ? 'INVALID_PRODUCER_EPOCH' : 'INVALID_TXN_STATE',
        `no check of "${id}" for producer ${answer.producerId} epoch ${answer.producerEpoch} is pending${stale ? ' (it is stale: the check was resolved or the producer moved on)' : ''}`,
      );
    }
    if (answer.attempt > p.attempts) {
      throw new KafkaError('INVALID_RECORD', `the answer is for attempt ${answer.attempt}; the coordinator has sent ${p.attempts}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}
