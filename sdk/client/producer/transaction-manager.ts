import { ApiKey } from '../../protocol/mod.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import { isKafkaError, KafkaError } from '../../protocol/kafka-error.ts';
import { type ClusterMetadata, CoordinatorType } from '../cluster-metadata.ts';
import { errorFromCode, throwIfError } from '../error-from-code.ts';
import { retrying, type RetryOptions } from '../retry.ts';
import type { ProducerBatch } from './producer-batch.ts';
import type { ConsumerGroupMetadata, OffsetToCommit } from './producer-types.ts';
import type { ProducerIdentity } from './sender.ts';
import { assertTransition, TxnState, type TxnStateValue } from './transaction-state.ts';

/** Bound on partitions one transaction may touch. */
const MAX_TXN_PARTITIONS = 100_000;
const TXN_RETRY: RetryOptions = { retries: 50, backoff: { initialMs: 20, maxMs: 500 } };

/**
 * The producer id and, for a transactional producer, the transaction protocol: InitProducerId
 * (which fences older instances with the same transactional.id), AddPartitionsToTxn before the
 * first batch to each partition, AddOffsetsToTxn + TxnOffsetCommit for consumed offsets, EndTxn.
 */
export class TransactionManager {
  identity: ProducerIdentity;
  private state: TxnStateValue = TxnState.uninitialized;
  private readonly partitions = new Set<string>();
  private pendingAdd: Promise<void> = Promise.resolve();
  /** Whether the coordinator knows of the current transaction (a partition or offsets were added). */
  private started = false;
  private fatalError: unknown;

  constructor(
    private readonly metadata: ClusterMetadata,
    readonly transactionalId: string | null,
    private readonly transactionTimeoutMs: number,
  ) {
    this.identity = { producerId: -1, producerEpoch: -1, transactionalId };
  }

  get currentState(): TxnStateValue {
    return this.state;
  }

  private transition(to: TxnStateValue): void {
    assertTransition(this.state, to);
    this.state = to;
  }

  private fail(error: unknown): never {
    if (this.state !== TxnState.fatal) this.transition(TxnState.fatal);
    this.fatalError = error;
    throw error;
  }

  private assertUsable(): void {
    if (this.state === TxnState.fatal) {
      throw new KafkaError('INVALID_TXN_STATE', 'the producer hit a fatal error and must be closed', { cause: this.fatalError });
    }
  }

  private coordinator(): Promise<number> {
    return this.metadata.coordinator(CoordinatorType.transaction, this.transactionalId!);
  }

  private async onCoordinatorError(error: unknown): Promise<void> {
    if (isKafkaError(error, 'NOT_COORDINATOR') || isKafkaError(error, 'COORDINATOR_NOT_AVAILABLE') || isKafkaError(error, 'NETWORK_EXCEPTION')) {
      this.metadata.invalidateCoordinator(CoordinatorType.transaction, this.transactionalId!);
    }
  }

  /** InitProducerId; for a transactional producer, at its coordinator, which also fences older instances. */
  async init(): Promise<void> {
    const transport = this.metadata.transport;
    const response = await retrying(async () => {
      const nodeId = this.transactionalId === null ? undefined : await this.coordinator();
      const version = await transport.apiVersion(ApiKey.InitProducerId, nodeId);
      const r = await transport.send(
        ApiKey.InitProducerId,
        version,
        { transactionalId: this.transactionalId, transactionTimeoutMs: this.transactionTimeoutMs, producerId: -1n, producerEpoch: -1 },
        { nodeId },
      );
      throwIfError(r.errorCode, `InitProducerId${this.transactionalId === null ? '' : ` for ${this.transactionalId}`}`);
      return r;
    }, { ...TXN_RETRY, onRetry: (e) => this.onCoordinatorError(e) }).catch((error: unknown) => this.fail(error));
    this.identity = { producerId: Number(response.producerId), producerEpoch: response.producerEpoch, transactionalId: this.transactionalId };
    if (this.state === TxnState.uninitialized) this.transition(TxnState.ready);
  }

  begin(): void {
    this.assertUsable();
    if (this.transactionalId === null) throw new KafkaError('INVALID_TXN_STATE', 'transactions need a transactionalId');
    if (this.state !== TxnState.ready) throw new KafkaError('INVALID_TXN_STATE', `cannot begin a transaction in state ${this.state}`);
    this.transition(TxnState.inTransaction);
  }

  assertCanSend(): void {
    this.assertUsable();
    if (this.transactionalId !== null && this.state !== TxnState.inTransaction) {
      throw new KafkaError('INVALID_TXN_STATE', 'a transactional producer sends only inside a transaction (beginTransaction first)');
    }
  }

  /** Adds the batches' partitions to the transaction before they are produced (AddPartitionsToTxn). */
  beforeSend = async (batches: readonly ProducerBatch[]): Promise<void> => {
    if (this.transactionalId === null) return;
    const missing = new Map<string, Set<number>>();
    for (const b of batches) {
      if (this.partitions.has(`${b.partition}:${b.topic}`)) continue;
      const set = missing.get(b.topic) ?? new Set<number>();
      set.add(b.partition);
      missing.set(b.topic, set);
    }
    if (missing.size === 0) return;
    // Serialised so two sends never race to add the same partition.
    const previous = this.pendingAdd;
    const added = previous.catch(() => undefined).then(() => this.addPartitions(missing));
    this.pendingAdd = added;
    await added;
  };

  private async addPartitions(topics: Map<string, Set<number>>): Promise<void> {
    for (const [topic, set] of topics) for (const p of set) if (this.partitions.has(`${p}:${topic}`)) set.delete(p);
    const list = [...topics].filter(([, set]) => set.size > 0).map(([name, set]) => ({ name, partitions: [...set] }));
    if (list.length === 0) return;
    if (this.partitions.size + list.length > MAX_TXN_PARTITIONS) throw new KafkaError('INVALID_TXN_STATE', 'too many partitions in one transaction');
    const transport = this.metadata.transport;
    await retrying(async () => {
      const nodeId = await this.coordinator();
      const version = await transport.apiVersion(ApiKey.AddPartitionsToTxn, nodeId);
      const r = await transport.send(
        ApiKey.AddPartitionsToTxn,
        version,
        {
          transactions: [],
          v3AndBelowTransactionalId: this.transactionalId!,
          v3AndBelowProducerId: BigInt(this.identity.producerId),
          v3AndBelowProducerEpoch: this.identity.producerEpoch,
          v3AndBelowTopics: list,
        },
        { nodeId },
      );
      for (const t of r.resultsByTopicV3AndBelow) {
        for (const p of t.resultsByPartition) {
          // OPERATION_NOT_ATTEMPTED marks partitions skipped because another one failed.
          if (p.partitionErrorCode !== 0 && p.partitionErrorCode !== ErrorCode.OPERATION_NOT_ATTEMPTED) {
            throw errorFromCode(p.partitionErrorCode, `AddPartitionsToTxn ${t.name}-${p.partitionIndex}`);
          }
        }
      }
      for (const t of r.resultsByTopicV3AndBelow) {
        for (const p of t.resultsByPartition) if (p.partitionErrorCode === 0) this.partitions.add(`${p.partitionIndex}:${t.name}`);
      }
      this.started = true;
    }, { ...TXN_RETRY, onRetry: (e) => this.onCoordinatorError(e) }).catch((error: unknown) => this.failIfFatal(error));
  }

  private failIfFatal(error: unknown): never {
    if (isKafkaError(error, 'PRODUCER_FENCED') || isKafkaError(error, 'INVALID_PRODUCER_EPOCH') || isKafkaError(error, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED')) {
      this.fail(error);
    }
    throw error;
  }

  /** Adds consumed offsets to the transaction: they commit or abort with its records (KIP-98, KIP-447). */
  async sendOffsets(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata): Promise<void> {
    this.assertUsable();
    if (this.state !== TxnState.inTransaction) throw new KafkaError('INVALID_TXN_STATE', `sendOffsets needs an open transaction, not ${this.state}`);
    // In line with AddPartitionsToTxn: the coordinator refuses a change to a transaction while
    // another is in flight (CONCURRENT_TRANSACTIONS, then a retry after a backoff), and offsets may
    // be sent while the transaction's batches are still being written.
    const sent = this.pendingAdd.catch(() => undefined).then(() => this.offsetsToTxn(offsets, group));
    this.pendingAdd = sent;
    await sent;
  }

  /** AddOffsetsToTxn at the transaction coordinator, then TxnOffsetCommit at the group's. */
  private async offsetsToTxn(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata): Promise<void> {
    const transport = this.metadata.transport;
    const ids = { transactionalId: this.transactionalId!, producerId: BigInt(this.identity.producerId), producerEpoch: this.identity.producerEpoch };
    await retrying(async () => {
      const nodeId = await this.coordinator();
      const r = await transport.send(ApiKey.AddOffsetsToTxn, await transport.apiVersion(ApiKey.AddOffsetsToTxn, nodeId), { ...ids, groupId: group.groupId }, { nodeId });
      throwIfError(r.errorCode, `AddOffsetsToTxn for group ${group.groupId}`);
      this.started = true;
    }, { ...TXN_RETRY, onRetry: (e) => this.onCoordinatorError(e) }).catch((error: unknown) => this.failIfFatal(error));
    const topics = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }[]>();
    for (const o of offsets) {
      const list = topics.get(o.topic) ?? [];
      list.push({ partitionIndex: o.partition, committedOffset: BigInt(o.offset), committedLeaderEpoch: -1, committedMetadata: o.metadata ?? null });
      topics.set(o.topic, list);
    }
    await retrying(async () => {
      const nodeId = await this.metadata.coordinator(CoordinatorType.group, group.groupId);
      const version = await transport.apiVersion(ApiKey.TxnOffsetCommit, nodeId);
      const r = await transport.send(
        ApiKey.TxnOffsetCommit,
        version,
        {
          ...ids,
          groupId: group.groupId,
          generationId: version >= 3 ? group.generationId : -1,
          memberId: version >= 3 ? group.memberId : '',
          groupInstanceId: version >= 3 ? group.groupInstanceId : null,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        },
        { nodeId },
      );
      for (const t of r.topics) for (const p of t.partitions) throwIfError(p.errorCode, `TxnOffsetCommit ${t.name}-${p.partitionIndex}`);
    }, {
      ...TXN_RETRY,
      onRetry: (e) => {
        if (isKafkaError(e, 'NOT_COORDINATOR') || isKafkaError(e, 'COORDINATOR_NOT_AVAILABLE')) this.metadata.invalidateCoordinator(CoordinatorType.group, group.groupId);
      },
    }).catch((error: unknown) => this.failIfFatal(error));
  }

  /** EndTxn after the caller flushed every batch of the transaction. */
  async end(commit: boolean): Promise<void> {
    this.assertUsable();
    if (this.state === TxnState.inTransaction || (this.state === TxnState.committing && !commit)) {
      this.transition(commit ? TxnState.committing : TxnState.aborting);
    } else if (!(this.state === TxnState.committing && commit) && !(this.state === TxnState.aborting && !commit)) {
      throw new KafkaError('INVALID_TXN_STATE', `cannot ${commit ? 'commit' : 'abort'} in state ${this.state}`);
    }
    // A transaction the coordinator never heard of has nothing to end.
    if (this.started) {
      const transport = this.metadata.transport;
      await retrying(async () => {
        const nodeId = await this.coordinator();
        const r = await transport.send(
          ApiKey.EndTxn,
          await transport.apiVersion(ApiKey.EndTxn, nodeId),
          { transactionalId: this.transactionalId!, producerId: BigInt(this.identity.producerId), producerEpoch: this.identity.producerEpoch, committed: commit },
          { nodeId },
        );
        throwIfError(r.errorCode, `EndTxn(${commit ? 'commit' : 'abort'}) for ${this.transactionalId}`);
      }, { ...TXN_RETRY, onRetry: (e) => this.onCoordinatorError(e) }).catch((error: unknown) => this.failIfFatal(error));
    }
    this.partitions.clear();
    this.started = false;
    this.transition(TxnState.ready);
  }
}
