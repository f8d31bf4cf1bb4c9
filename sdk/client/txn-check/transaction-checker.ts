import { isKafkaError, KafkaError } from '../../protocol/kafka-error.ts';
import type { Transport } from '../../transport/transport.ts';
import { Admin } from '../admin/admin.ts';
import { Consumer } from '../consumer/consumer.ts';
import { Producer } from '../producer/producer.ts';
import {
  type CheckAnswer,
  type CheckRequest,
  type CheckStatusValue,
  checkDetail,
  decodeCheckEvent,
  encodeCheckEvent,
  encodeCheckKey,
  encodeRegistration,
  TRANSACTION_CHECKERS_TOPIC,
  TRANSACTION_CHECKS_TOPIC,
  WEBHOOK_TIMEOUT_MS,
  webhookUrlProblem,
} from './txn-check-format.ts';

/** What a checker is asked: did the local transaction of this producer instance commit? */
export interface TransactionCheck {
  transactionalId: string;
  /** The producer id and epoch the checked producer instance held (`producer.producerIdentity`). */
  producerId: number;
  producerEpoch: number;
  /** 1-based; the coordinator aborts after `maxAttempts` checks without a `commit` or `abort`. */
  attempt: number;
  maxAttempts: number;
  /** When the transaction began at the coordinator (ms since the epoch). */
  txnStartMs: number;
  partitions: { topic: string; partition: number }[];
}

export type TransactionCheckAnswer = CheckStatusValue;

/** How the coordinator reaches a transactional id's checker. */
export type CheckerRegistrationInput = { kind: 'topic' } | { kind: 'webhook'; url: string; timeoutMs?: number };

export interface TransactionCheckerOptions {
  /** The transactional ids this checker answers for. */
  transactionalIds: readonly string[];
  /**
   * Says whether the producer's local transaction committed: 'commit', 'abort', or 'unknown' (the
   * coordinator asks again later, and aborts after its last attempt). A throw counts as 'unknown'.
   */
  check: (check: TransactionCheck) => TransactionCheckAnswer | Promise<TransactionCheckAnswer>;
  /** Registers each id as checked through the topic when the checker starts; true by default. */
  register?: boolean;
  /** Checks sent this long before the checker started are still answered (a successor catching up); 10 minutes by default. */
  lookbackMs?: number;
  /** Called for a failed callback or an answer the broker refused (a check resolved meanwhile, a stale epoch). */
  onError?: (error: unknown, check: TransactionCheck) => void;
  /** Long-poll time of the checks topic. */
  maxWaitMs?: number;
}

/** Checks of one batch of records already seen resolved; bounded, oldest forgotten first. */
const MAX_REMEMBERED_OUTCOMES = 10_000;

function checkKey(c: { transactionalId: string; producerId: number; producerEpoch: number }): string {
  return `${c.producerId}:${c.producerEpoch}:${c.transactionalId}`;
}

async function produceOne(transport: Transport, topic: string, key: Uint8Array, value: Uint8Array | null): Promise<void> {
  const producer = new Producer(transport, { idempotent: false, retries: 5 });
  try {
    await producer.send({ topic, partition: 0, key, value });
  } finally {
    await producer.close();
  }
}

/**
 * Answers the transaction coordinator's check-back for some transactional ids: reads check
 * requests from `__transaction_checks`, runs the callback, and produces its answer there. It is a
 * plain Kafka client, so it runs anywhere: in the producer's process, in its restarted successor
 * (start it before the successor's first transaction: the successor's InitProducerId waits for the
 * check of its predecessor's open transaction), or as a standing service.
 *
 * The answer must come from durable local state: the usual recipe stores the producer's
 * `producerIdentity` with each local commit, and answers 'commit' when the latest local record
 * of that identity is a commit not yet marked published (marked after `commitTransaction`).
 */
export class TransactionChecker {
  private readonly ids: ReadonlySet<string>;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly resolved = new Set<string>();
  private loop: Promise<void> | undefined;
  private closed = false;
  /** Checks answered since the checker started. */
  answered = 0;

  constructor(
    readonly transport: Transport,
    private readonly options: TransactionCheckerOptions,
  ) {
    if (options.transactionalIds.length === 0) throw new KafkaError('INVALID_CONFIG', 'a transaction checker needs at least one transactional id');
    for (const id of options.transactionalIds) {
      if (id === '') throw new KafkaError('INVALID_CONFIG', 'a transactional id is not empty');
    }
    this.ids = new Set(options.transactionalIds);
    this.consumer = new Consumer(transport, { isolationLevel: 'read_uncommitted', autoOffsetReset: 'latest', maxWaitMs: options.maxWaitMs ?? 500 });
    this.producer = new Producer(transport, { idempotent: false });
  }

  /**
   * Registers the coordinator's way to check `transactionalId` (written to the compacted
   * `__transaction_checkers`). A bad webhook URL or timeout is INVALID_CONFIG here, and
   * INVALID_RECORD from the broker for a client that skips this check.
   */
  static async register(transport: Transport, transactionalId: string, registration: CheckerRegistrationInput): Promise<void> {
    if (transactionalId === '') throw new KafkaError('INVALID_CONFIG', 'a transactional id is not empty');
    let value: Uint8Array;
    if (registration.kind === 'webhook') {
      const problem = webhookUrlProblem(registration.url);
      if (problem !== undefined) throw new KafkaError('INVALID_CONFIG', problem);
      const timeoutMs = registration.timeoutMs ?? WEBHOOK_TIMEOUT_MS.default;
      if (!Number.isInteger(timeoutMs) || timeoutMs < WEBHOOK_TIMEOUT_MS.min || timeoutMs > WEBHOOK_TIMEOUT_MS.max) {
        throw new KafkaError('INVALID_CONFIG', `a webhook's timeoutMs must be an integer from ${WEBHOOK_TIMEOUT_MS.min} to ${WEBHOOK_TIMEOUT_MS.max}`);
      }
      value = encodeRegistration({ kind: 'webhook', url: registration.url, timeoutMs });
    } else {
      value = encodeRegistration({ kind: 'topic' });
    }
    await produceOne(transport, TRANSACTION_CHECKERS_TOPIC, encodeCheckKey(transactionalId), value);
  }

  /** Removes the registration: the id's next timed-out transaction is aborted without a check, as in Kafka. */
  static async unregister(transport: Transport, transactionalId: string): Promise<void> {
    await produceOne(transport, TRANSACTION_CHECKERS_TOPIC, encodeCheckKey(transactionalId), null);
  }

  /**
   * Registers the ids (unless `register: false`), positions the reader `lookbackMs` back, and
   * answers checks from then on until `close`. Resolves once it is reading.
   */
  async start(): Promise<void> {
    if (this.loop !== undefined) throw new KafkaError('INVALID_TXN_STATE', 'the transaction checker is already started');
    // Naming the topics creates them at the broker, which owns them.
    await new Admin(this.transport).describeTopics([TRANSACTION_CHECKS_TOPIC, TRANSACTION_CHECKERS_TOPIC]);
    if (this.options.register ?? true) {
      for (const id of this.ids) await TransactionChecker.register(this.transport, id, { kind: 'topic' });
    }
    const tp = { topic: TRANSACTION_CHECKS_TOPIC, partition: 0 };
    this.consumer.assign([tp]);
    this.consumer.seekToTimestamp([tp], Date.now() - (this.options.lookbackMs ?? 10 * 60_000));
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    for await (const batch of this.consumer.batches()) {
      const due = new Map<string, CheckRequest>();
      for (const record of batch.records) {
        let event;
        try {
          event = decodeCheckEvent(record.key, record.value);
        } catch {
          continue;
        }
        if (!this.ids.has(event.transactionalId)) continue;
        const key = checkKey(event);
        if (event.type === 'outcome') {
          this.remember(key);
          due.delete(key);
        } else if (event.type === 'check' && !this.resolved.has(key)) {
          // Several attempts for one transaction in one batch (a successor catching up) get one answer, to the latest.
          due.set(key, event);
        }
      }
      for (const check of due.values()) {
        if (this.closed) return;
        await this.answer(check);
      }
    }
  }

  private remember(key: string): void {
    this.resolved.add(key);
    if (this.resolved.size > MAX_REMEMBERED_OUTCOMES) this.resolved.delete(this.resolved.values().next().value!);
  }

  private async answer(request: CheckRequest): Promise<void> {
    const check: TransactionCheck = {
      transactionalId: request.transactionalId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      attempt: request.attempt,
      maxAttempts: request.maxAttempts,
      txnStartMs: request.txnStartMs,
      partitions: request.partitions,
    };
    let status: TransactionCheckAnswer;
    let detail: string | undefined;
    try {
      status = await this.options.check(check);
      if (status !== 'commit' && status !== 'abort' && status !== 'unknown') throw new KafkaError('INVALID_CONFIG', `a check answers "commit", "abort" or "unknown", not ${JSON.stringify(status)}`);
    } catch (error) {
      status = 'unknown';
      detail = checkDetail(`the check callback failed: ${error instanceof Error ? error.message : String(error)}`);
      this.options.onError?.(error, check);
    }
    const answer: CheckAnswer = {
      type: 'answer',
      transactionalId: check.transactionalId,
      producerId: check.producerId,
      producerEpoch: check.producerEpoch,
      attempt: check.attempt,
      status,
      source: 'checker',
      ...(detail === undefined ? {} : { detail }),
    };
    try {
      await this.producer.send({ topic: TRANSACTION_CHECKS_TOPIC, partition: 0, key: encodeCheckKey(check.transactionalId), value: encodeCheckEvent(answer) });
      this.answered++;
    } catch (error) {
      // The check was resolved meanwhile (another checker, an earlier answer) or is stale.
      if (isKafkaError(error, 'INVALID_TXN_STATE') || isKafkaError(error, 'INVALID_PRODUCER_EPOCH') || isKafkaError(error, 'TRANSACTIONAL_ID_NOT_FOUND')) {
        this.remember(checkKey(check));
      }
      this.options.onError?.(error, check);
    }
  }

  /** Stops answering; the transport stays open (the caller owns it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.consumer.close();
    await this.loop?.catch(() => undefined);
    await this.producer.close();
  }
}
