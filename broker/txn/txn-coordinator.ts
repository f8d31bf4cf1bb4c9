import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { ControlRecordTypeName } from '../../sdk/record/control-record.ts';
import type { TxnConfig } from './txn-config.ts';
import { newTxnMetadata, partitionKey, type TxnMetadata } from './txn-metadata.ts';
import type { PendingOffset, TxnOffsetSink } from './txn-offset-sink.ts';
import { type TxnRecordValue, toRecordValue } from './txn-record.ts';
import { TxnState, transition } from './txn-state.ts';

const MAX_PRODUCER_EPOCH = 32767;

/** What the coordinator needs from the broker; tests provide a fake. */
export interface TxnHost {
  nowMs(): number;
  allocateProducerId(): Promise<number>;
  partitionExists(topic: string, partition: number): boolean;
  /** Appends a COMMIT or ABORT marker for the producer to the partition, acknowledged once fsynced. */
  writeMarker(topic: string, partition: number, producerId: number, producerEpoch: number, type: ControlRecordTypeName): Promise<void>;
}

/** Where transaction states are persisted (`__transaction_state`). */
export interface TxnStore {
  write(transactionalId: string, value: TxnRecordValue | null): Promise<void>;
  replay(): Promise<Map<string, TxnRecordValue>>;
}

export interface TopicPartitionError {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface TxnOffsetCommitInput {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  /** -1 with an empty member id for v0-v2, which carry no member (KIP-447 checks apply from v3). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  offsets: readonly PendingOffset[];
}

type ErrorCodeValue = number;

/**
 * Transaction check-back (txn-check-back.ts), as the coordinator sees it: whether an id has a
 * checker, and where a transaction goes once it entered Checking (fenced and persisted).
 */
export interface TxnCheckBackHooks {
  registered(transactionalId: string): boolean;
  begin(meta: Readonly<TxnMetadata>): void;
  /** After the coordinator's replay: resumes the checks of the transactions a restart found in Checking. */
  load(checking: readonly Readonly<TxnMetadata>[]): Promise<void>;
  /** Starts due check work without waiting for it (a webhook may be slow). */
  runTimers(): void;
  close(): Promise<void>;
}

/** Transactions since the coordinator started (not persisted), for metrics. */
export interface TxnCounts {
  begun: number;
  committed: number;
  /** Every abort, including the timed-out ones. */
  aborted: number;
  timedOut: number;
}

/**
 * The transaction coordinator (KIP-98): one state machine per transactional id, every change
 * persisted to `__transaction_state` before it takes effect, markers written to every partition of
 * a completing transaction, and the pending group offsets committed with it.
 *
 * A change in flight marks its id busy; requests for a busy id get CONCURRENT_TRANSACTIONS, which
 * clients retry. EndTxn answers once the markers are written and the transaction is complete, so
 * a client's next transaction never waits on the previous one's markers.
 */
export class TxnCoordinator {
  private readonly counts: TxnCounts = { begun: 0, committed: 0, aborted: 0, timedOut: 0 };
  private readonly txns = new Map<string, TxnMetadata>();
  private readonly byProducerId = new Map<number, TxnMetadata>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private checkBack: TxnCheckBackHooks | undefined;

  constructor(
    private readonly host: TxnHost,
    private readonly store: TxnStore,
    private readonly config: TxnConfig,
    private readonly offsetSink: () => TxnOffsetSink | undefined,
  ) {}

  /** Consults `hooks` before aborting a transaction whose id registered a checker; set before `load`. */
  attachCheckBack(hooks: TxnCheckBackHooks): void {
    this.checkBack = hooks;
  }

  /** Rebuilds every id from the store and completes transactions a crash left half-way through their markers. */
  async load(): Promise<void> {
    for (const [id, value] of await this.store.replay()) {
      const meta = newTxnMetadata(id, value.producerId, value.timeoutMs, value.lastUpdateMs);
      meta.producerEpoch = value.producerEpoch;
      meta.lastProducerId = value.lastProducerId;
      meta.lastProducerEpoch = value.lastProducerEpoch;
      meta.state = value.state;
      meta.txnStartMs = value.txnStartMs;
      for (const p of value.partitions) meta.partitions.set(partitionKey(p.topic, p.partition), p);
      for (const g of value.groups) meta.groups.set(g.groupId, new Map(g.offsets.map((o) => [partitionKey(o.topic, o.partition), o])));
      this.index(meta);
    }
    for (const meta of this.txns.values()) {
      if (meta.state === TxnState.PrepareCommit || meta.state === TxnState.PrepareAbort) await this.runBusy(meta, () => this.complete(meta));
    }
    await this.checkBack?.load([...this.txns.values()].filter((meta) => meta.state === TxnState.Checking));
  }

  get size(): number {
    return this.txns.size;
  }

  get stats(): Readonly<TxnCounts> {
    return { ...this.counts };
  }

  describe(transactionalId: string): Readonly<TxnMetadata> | undefined {
    return this.txns.get(transactionalId);
  }

  private index(meta: TxnMetadata): void {
    this.txns.set(meta.transactionalId, meta);
    this.byProducerId.set(meta.producerId, meta);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = (): void => void this.inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  private async runBusy<T>(meta: TxnMetadata, work: () => Promise<T>): Promise<T> {
    meta.busy = true;
    try {
      return await this.track(work());
    } finally {
      meta.busy = false;
    }
  }

  private persist(meta: TxnMetadata): Promise<void> {
    meta.lastUpdateMs = this.host.nowMs();
    return this.store.write(meta.transactionalId, toRecordValue(meta));
  }

  /**
   * The common checks of AddPartitions, AddOffsets, TxnOffsetCommit and EndTxn: the id exists and
   * belongs to this producer id, the epoch is current, and nothing else is in flight.
   */
  private check(transactionalId: string, producerId: number, producerEpoch: number): TxnMetadata | ErrorCodeValue {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const meta = this.txns.get(transactionalId);
    if (meta === undefined || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== meta.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (meta.busy || meta.state === TxnState.PrepareCommit || meta.state === TxnState.PrepareAbort || meta.state === TxnState.Checking) {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    return meta;
  }

  async initProducerId(
    transactionalId: string | null,
    transactionTimeoutMs: number,
    producerId = -1,
    producerEpoch = -1,
  ): Promise<{ errorCode: number; producerId: number; producerEpoch: number }> {
    const failed = (errorCode: number) => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (this.closed) return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (transactionalId === null || transactionalId === '') {
      return { errorCode: 0, producerId: await this.host.allocateProducerId(), producerEpoch: 0 };
    }
    if (!Number.isInteger(transactionTimeoutMs) || transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.maxTimeoutMs) {
      return failed(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    }
    let meta = this.txns.get(transactionalId);
    if (meta === undefined) {
      if (this.txns.size >= this.config.maxTransactionalIds) return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      meta = newTxnMetadata(transactionalId, await this.host.allocateProducerId(), transactionTimeoutMs, this.host.nowMs());
      if (this.txns.has(transactionalId)) return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
      this.index(meta);
      const created = meta;
      try {
        await this.runBusy(created, () => this.persist(created));
      } catch (error) {
        this.forget(created);
        return failed(storeErrorCode(error));
      }
      return { errorCode: 0, producerId: created.producerId, producerEpoch: created.producerEpoch };
    }
    const current = meta;
    if (current.busy || current.state === TxnState.PrepareCommit || current.state === TxnState.PrepareAbort || current.state === TxnState.Checking) {
      return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
    }
    if (producerId < 0 && current.state === TxnState.Ongoing && this.checkBack?.registered(transactionalId) === true) {
      // A new instance of a producer with a checker: its predecessor's open transaction may have
      // committed locally, so it is resolved through the check first, not aborted; the new
      // instance retries CONCURRENT_TRANSACTIONS until the check is done.
      const errorCode = await this.beginCheck(current);
      return failed(errorCode === 0 ? ErrorCode.CONCURRENT_TRANSACTIONS : errorCode);
    }
    if (producerId >= 0 && (producerId !== current.producerId || producerEpoch !== current.producerEpoch)) {
      // A retry of a bump whose answer was lost names the id and epoch from before it (KIP-360):
      // while no transaction has begun since, it gets the current ones; anything else is fenced.
      const retriedBump = producerId === current.lastProducerId && producerEpoch === current.lastProducerEpoch;
      if (retriedBump && current.state !== TxnState.Ongoing) {
        return { errorCode: 0, producerId: current.producerId, producerEpoch: current.producerEpoch };
      }
      return failed(ErrorCode.PRODUCER_FENCED);
    }
    try {
      await this.runBusy(current, async () => {
        if (current.state === TxnState.Ongoing) {
          // A new producer instance fences the old one: the new epoch is the one the ABORT markers
          // carry, so partitions reject the old epoch from the moment they see them.
          await this.bumpEpoch(current);
          await this.abortOngoing(current);
        } else {
          await this.bumpEpoch(current);
        }
        current.timeoutMs = transactionTimeoutMs;
        if (current.state !== TxnState.Empty) transition(current, TxnState.Empty);
        await this.persist(current);
      });
    } catch (error) {
      return failed(storeErrorCode(error));
    }
    return { errorCode: 0, producerId: current.producerId, producerEpoch: current.producerEpoch };
  }

  /** The next epoch, or a fresh producer id when the epoch space is used up (Kafka does the same). */
  private async bumpEpoch(meta: TxnMetadata): Promise<void> {
    meta.lastProducerId = meta.producerId;
    meta.lastProducerEpoch = meta.producerEpoch;
    if (meta.producerEpoch < MAX_PRODUCER_EPOCH - 1) {
      meta.producerEpoch++;
      return;
    }
    if (meta.state === TxnState.Ongoing) {
      throw new Error(`invariant broken: transaction "${meta.transactionalId}" exhausted its epochs with a transaction open`);
    }
    this.byProducerId.delete(meta.producerId);
    meta.producerId = await this.host.allocateProducerId();
    meta.producerEpoch = 0;
    this.byProducerId.set(meta.producerId, meta);
  }

  /** Ongoing → PrepareAbort → markers → CompleteAbort, with the epoch already bumped. */
  private async abortOngoing(meta: TxnMetadata): Promise<void> {
    transition(meta, TxnState.PrepareAbort);
    await this.persist(meta);
    await this.complete(meta);
  }

  /**
   * Writes the markers of a PrepareCommit/PrepareAbort transaction, commits its pending offsets,
   * and records it complete. Safe to repeat after a crash: a second marker for a completed
   * transaction changes nothing readers see, and offsets are committed idempotently.
   */
  private async complete(meta: TxnMetadata): Promise<void> {
    const committing = meta.state === TxnState.PrepareCommit;
    if (!committing && meta.state !== TxnState.PrepareAbort) {
      throw new Error(`invariant broken: completing transaction "${meta.transactionalId}" in state ${meta.state}`);
    }
    const type = committing ? 'COMMIT' : 'ABORT';
    await Promise.all(
      [...meta.partitions.values()]
        .filter((p) => this.host.partitionExists(p.topic, p.partition))
        .map((p) => this.host.writeMarker(p.topic, p.partition, meta.producerId, meta.producerEpoch, type)),
    );
    if (committing) {
      const sink = this.offsetSink();
      for (const [groupId, offsets] of meta.groups) {
        if (offsets.size === 0) continue;
        if (sink === undefined) throw new Error(`invariant broken: transaction "${meta.transactionalId}" carries offsets but no group coordinator exists`);
        await sink.commitOffsets(groupId, [...offsets.values()]);
      }
    }
    transition(meta, committing ? TxnState.CompleteCommit : TxnState.CompleteAbort);
    this.counts[committing ? 'committed' : 'aborted']++;
    meta.partitions.clear();
    meta.groups.clear();
    meta.txnStartMs = -1;
    await this.persist(meta);
  }

  /** Joins partitions (or, with `groupId`, a group's offsets) to the transaction, starting it if needed. */
  private async join(meta: TxnMetadata, partitions: readonly { topic: string; partition: number }[], groupId: string | undefined): Promise<number> {
    const newPartitions = partitions.filter((p) => !meta.partitions.has(partitionKey(p.topic, p.partition)));
    const newGroup = groupId !== undefined && !meta.groups.has(groupId);
    if (meta.state === TxnState.Ongoing && newPartitions.length === 0 && !newGroup) return 0;
    if (meta.partitions.size + meta.groups.size + newPartitions.length + (newGroup ? 1 : 0) > this.config.maxPartitionsPerTxn) {
      return ErrorCode.POLICY_VIOLATION;
    }
    const before = { state: meta.state, txnStartMs: meta.txnStartMs };
    for (const p of newPartitions) meta.partitions.set(partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
    if (newGroup) meta.groups.set(groupId, new Map());
    if (meta.state !== TxnState.Ongoing) {
      transition(meta, TxnState.Ongoing);
      meta.txnStartMs = this.host.nowMs();
    }
    try {
      await this.runBusy(meta, () => this.persist(meta));
      if (before.state !== TxnState.Ongoing) this.counts.begun++;
      return 0;
    } catch (error) {
      for (const p of newPartitions) meta.partitions.delete(partitionKey(p.topic, p.partition));
      if (newGroup) meta.groups.delete(groupId);
      meta.state = before.state;
      meta.txnStartMs = before.txnStartMs;
      return storeErrorCode(error);
    }
  }

  async addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<TopicPartitionError[]> {
    const all = (errorCode: number) => partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode }));
    const meta = this.check(transactionalId, producerId, producerEpoch);
    if (typeof meta === 'number') return all(meta);
    const unknown = partitions.filter((p) => !this.host.partitionExists(p.topic, p.partition));
    if (unknown.length > 0) {
      return partitions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        errorCode: unknown.includes(p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED,
      }));
    }
    return all(await this.join(meta, partitions, undefined));
  }

  async addOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string): Promise<number> {
    const meta = this.check(transactionalId, producerId, producerEpoch);
    if (typeof meta === 'number') return meta;
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    return this.join(meta, [], groupId);
  }

  /**
   * Holds offsets in the transaction until its commit (KIP-98); KIP-447 member checks when the
   * request carries a member. The offsets are persisted with the transaction's state before the
   * answer: a client told they are held may send EndTxn to a restarted broker, and a commit that
   * lost them would commit the outputs without the inputs' positions.
   */
  async txnOffsetCommit(input: TxnOffsetCommitInput): Promise<TopicPartitionError[]> {
    const all = (errorCode: number) => input.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode }));
    const meta = this.check(input.transactionalId, input.producerId, input.producerEpoch);
    if (typeof meta === 'number') return all(meta);
    const pending = meta.groups.get(input.groupId);
    if (meta.state !== TxnState.Ongoing || pending === undefined) return all(ErrorCode.INVALID_TXN_STATE);
    const sink = this.offsetSink();
    if (sink === undefined) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (input.generationId >= 0 || input.memberId !== '') {
      const memberError = sink.checkMember(input.groupId, input.generationId, input.memberId, input.groupInstanceId);
      if (memberError !== 0) return all(memberError);
    }
    const previous = new Map(pending);
    const results = input.offsets.map((o) => {
      if (!this.host.partitionExists(o.topic, o.partition)) return { topic: o.topic, partition: o.partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      const key = partitionKey(o.topic, o.partition);
      if (!pending.has(key) && pending.size >= this.config.maxPartitionsPerTxn) return { topic: o.topic, partition: o.partition, errorCode: ErrorCode.POLICY_VIOLATION };
      pending.set(key, { ...o });
      return { topic: o.topic, partition: o.partition, errorCode: 0 };
    });
    if (results.every((r) => r.errorCode !== 0)) return results;
    try {
      await this.runBusy(meta, () => this.persist(meta));
    } catch (error) {
      meta.groups.set(input.groupId, previous);
      const errorCode = storeErrorCode(error);
      return results.map((r) => (r.errorCode === 0 ? { ...r, errorCode } : r));
    }
    return results;
  }

  /**
   * The partitions of `groupId` for which an open or committing transaction holds an offset not
   * committed yet: OffsetFetch with requireStable (KIP-447) answers UNSTABLE_OFFSET_COMMIT for them
   * rather than an offset the transaction is about to replace.
   */
  pendingOffsetPartitions(groupId: string): { topic: string; partition: number }[] {
    const found = new Map<string, { topic: string; partition: number }>();
    for (const meta of this.txns.values()) {
      if (meta.state !== TxnState.Ongoing && meta.state !== TxnState.PrepareCommit && meta.state !== TxnState.Checking) continue;
      for (const [key, o] of meta.groups.get(groupId) ?? []) found.set(key, { topic: o.topic, partition: o.partition });
    }
    return [...found.values()];
  }

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, committed: boolean): Promise<number> {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const meta = this.txns.get(transactionalId);
    if (meta === undefined || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== meta.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (meta.busy) return ErrorCode.CONCURRENT_TRANSACTIONS;
    // A retry of an EndTxn that already completed is answered as it was.
    if (meta.state === TxnState.CompleteCommit) return committed ? 0 : ErrorCode.INVALID_TXN_STATE;
    if (meta.state === TxnState.CompleteAbort) return committed ? ErrorCode.INVALID_TXN_STATE : 0;
    if (meta.state === TxnState.PrepareCommit || meta.state === TxnState.PrepareAbort || meta.state === TxnState.Checking) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (meta.state !== TxnState.Ongoing) return ErrorCode.INVALID_TXN_STATE;
    try {
      await this.runBusy(meta, async () => {
        transition(meta, committed ? TxnState.PrepareCommit : TxnState.PrepareAbort);
        try {
          await this.persist(meta);
        } catch (error) {
          meta.state = TxnState.Ongoing;
          throw error;
        }
        // From here the outcome is decided: a failure to write markers is retried by the timer.
        await this.complete(meta).catch(() => undefined);
      });
    } catch (error) {
      return storeErrorCode(error);
    }
    return 0;
  }

  /**
   * Whether a transactional batch from this producer may go to this partition: its transaction
   * must be open and hold the partition (the single-node form of KIP-890's verification), so a
   * write can never start a transaction the coordinator would not finish.
   */
  transactionalWriteError(producerId: number, producerEpoch: number, topic: string, partition: number): 'INVALID_PRODUCER_EPOCH' | 'INVALID_TXN_STATE' | undefined {
    const meta = this.byProducerId.get(producerId);
    if (meta === undefined) return 'INVALID_TXN_STATE';
    if (producerEpoch < meta.producerEpoch) return 'INVALID_PRODUCER_EPOCH';
    if (producerEpoch !== meta.producerEpoch || meta.state !== TxnState.Ongoing || !meta.partitions.has(partitionKey(topic, partition))) {
      return 'INVALID_TXN_STATE';
    }
    return undefined;
  }

  /**
   * Timer work: aborts transactions open longer than their timeout (fencing the producer with a
   * new epoch, as Kafka does), retries completions whose markers failed, and forgets ids idle past
   * `transactionalIdExpirationMs`.
   */
  async runTimers(): Promise<void> {
    const nowMs = this.host.nowMs();
    const work: Promise<unknown>[] = [];
    for (const meta of [...this.txns.values()]) {
      if (this.closed || meta.busy) continue;
      if (meta.state === TxnState.Ongoing && nowMs - meta.txnStartMs > meta.timeoutMs && this.checkBack?.registered(meta.transactionalId) === true) {
        this.counts.timedOut++;
        work.push(this.beginCheck(meta));
      } else if (meta.state === TxnState.Ongoing && nowMs - meta.txnStartMs > meta.timeoutMs) {
        work.push(
          this.runBusy(meta, async () => {
            await this.bumpEpoch(meta);
            this.counts.timedOut++;
            await this.abortOngoing(meta);
          }),
        );
      } else if (meta.state === TxnState.PrepareCommit || meta.state === TxnState.PrepareAbort) {
        work.push(this.runBusy(meta, () => this.complete(meta)));
      } else if (
        (meta.state === TxnState.Empty || meta.state === TxnState.CompleteCommit || meta.state === TxnState.CompleteAbort) &&
        nowMs - meta.lastUpdateMs >= this.config.transactionalIdExpirationMs
      ) {
        work.push(this.runBusy(meta, () => this.expire(meta)));
      }
    }
    await Promise.allSettled(work);
    if (!this.closed) this.checkBack?.runTimers();
  }

  /**
   * Ongoing → Checking: fences the producer with a new epoch (as a timeout abort would), persists,
   * and hands the transaction to the check-back, which later calls `resolveCheck`. The producer
   * id and epoch before the bump, kept in `lastProducerId`/`lastProducerEpoch`, name the checked
   * transaction. Returns 0 or the error code of a failed store write (nothing changed then).
   */
  private async beginCheck(meta: TxnMetadata): Promise<number> {
    const before = { producerId: meta.producerId, producerEpoch: meta.producerEpoch, lastProducerId: meta.lastProducerId, lastProducerEpoch: meta.lastProducerEpoch };
    try {
      await this.runBusy(meta, async () => {
        await this.bumpEpoch(meta);
        transition(meta, TxnState.Checking);
        try {
          await this.persist(meta);
        } catch (error) {
          if (meta.producerId !== before.producerId) this.byProducerId.delete(meta.producerId);
          Object.assign(meta, before, { state: TxnState.Ongoing });
          this.byProducerId.set(meta.producerId, meta);
          throw error;
        }
      });
    } catch (error) {
      return storeErrorCode(error);
    }
    this.checkBack?.begin(meta);
    return 0;
  }

  /**
   * The check's answer for a Checking transaction, named by the producer id and epoch it had:
   * commits or aborts it exactly as EndTxn would (PrepareCommit/PrepareAbort persisted, then the
   * markers, with the fencing epoch). Returns 0 or the error code saying why it does not apply.
   */
  async resolveCheck(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number> {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const meta = this.txns.get(transactionalId);
    if (meta === undefined) return ErrorCode.TRANSACTIONAL_ID_NOT_FOUND;
    if (meta.lastProducerId !== producerId || meta.lastProducerEpoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (meta.state !== TxnState.Checking) return ErrorCode.INVALID_TXN_STATE;
    if (meta.busy) return ErrorCode.CONCURRENT_TRANSACTIONS;
    try {
      await this.runBusy(meta, async () => {
        transition(meta, commit ? TxnState.PrepareCommit : TxnState.PrepareAbort);
        try {
          await this.persist(meta);
        } catch (error) {
          meta.state = TxnState.Checking;
          throw error;
        }
        await this.complete(meta).catch(() => undefined);
      });
    } catch (error) {
      return storeErrorCode(error);
    }
    return 0;
  }

  private async expire(meta: TxnMetadata): Promise<void> {
    await this.store.write(meta.transactionalId, null);
    transition(meta, TxnState.Dead);
    this.forget(meta);
  }

  private forget(meta: TxnMetadata): void {
    if (this.txns.get(meta.transactionalId) === meta) this.txns.delete(meta.transactionalId);
    if (this.byProducerId.get(meta.producerId) === meta) this.byProducerId.delete(meta.producerId);
  }

  /** Refuses new requests and waits for the changes in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await this.checkBack?.close();
    await Promise.allSettled([...this.inFlight]);
  }
}

/** A store write that failed: the coordinator cannot make progress now; clients retry. */
function storeErrorCode(error: unknown): number {
  if (isKafkaError(error)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  throw error;
}
