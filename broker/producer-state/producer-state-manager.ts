import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { BatchAttribute, BatchOffset, readInt64 } from '../../sdk/record/batch-header.ts';
import { parseControlRecord } from '../../sdk/record/control-record.ts';
import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { batchSizeAt } from '../log/batch-validation.ts';
import { type BatchMetadata, cloneEntry, lastSequenceOf, type ProducerEntry, RETAINED_BATCHES } from './producer-entry.ts';
import { incrementSequence, inSequence } from './sequence-number.ts';

/**
 * Who is appending: a client's Produce is validated against the sequence rules; the transaction
 * coordinator may write control batches; replay rebuilds state from batches already in the log.
 */
export const AppendOrigin = { client: 0, coordinator: 1, replay: 2 } as const;
export type AppendOriginValue = (typeof AppendOrigin)[keyof typeof AppendOrigin];

/** A transaction whose marker is in the log: data from `firstOffset`, the marker at `lastOffset`. */
export interface CompletedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  isAborted: boolean;
  /** The partition's last stable offset right after this transaction completed (Kafka's txn index field). */
  lastStableOffset: number;
}

/** The validated effect of one append, applied only once its bytes are written. */
export interface PreparedAppend {
  kind: 'append';
  updates: ProducerEntry[];
  completed: CompletedTxn[];
}

/** A retried batch already in the log: answered with its original offsets and not written again. */
export interface DuplicateAppend {
  kind: 'duplicate';
  baseOffset: number;
  lastOffset: number;
}

function fail(name: 'OUT_OF_ORDER_SEQUENCE_NUMBER' | 'INVALID_PRODUCER_EPOCH' | 'INVALID_TXN_STATE' | 'INVALID_RECORD', message: string): never {
  throw new KafkaError(name, message);
}

/** The marker type of a control batch (stored uncompressed with one record). */
function isAbortMarker(bytes: Uint8Array): boolean {
  for (const batch of readRecordBatches(bytes)) {
    for (const record of batch.records()) return parseControlRecord(record).type === 'ABORT';
  }
  throw new KafkaError('INVALID_RECORD', 'a control batch holds no record');
}

/**
 * Per-partition state of idempotent and transactional producers (Kafka's ProducerStateManager):
 * the sequence rules of KIP-98/KIP-360, the last batches of each producer for answering retries,
 * and the open transactions that hold back the last stable offset.
 */
export class ProducerStateManager {
  private readonly entries = new Map<number, ProducerEntry>();
  /** First offset of each open transaction, by producer id. */
  private readonly ongoing = new Map<number, number>();
  /** Completed transactions whose marker is not yet below the high watermark; they still hold the LSO. */
  private unstable: { firstOffset: number; lastOffset: number }[] = [];

  constructor(private readonly topicPartition: string) {}

  get producerCount(): number {
    return this.entries.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.entries.get(producerId);
  }

  allEntries(): IterableIterator<ProducerEntry> {
    return this.entries.values();
  }

  /** Whether `producerId` has an open transaction on this partition. */
  hasOngoingTxn(producerId: number): boolean {
    return this.ongoing.has(producerId);
  }

  /**
   * Validates the batches at `bytes` (offsets from `baseOffset` on, as they will be assigned)
   * without changing anything. Throws the KafkaError the produce gets.
   */
  prepare(bytes: Uint8Array, baseOffset: number, origin: AppendOriginValue, nowMs: number): PreparedAppend | DuplicateAppend {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const updated = new Map<number, ProducerEntry>();
    const completed: CompletedTxn[] = [];
    let offset = baseOffset;
    for (let pos = 0; pos < bytes.length; pos += batchSizeAt(dv, pos)) {
      const lastOffsetDelta = dv.getInt32(pos + BatchOffset.lastOffsetDelta);
      const batchBase = offset;
      offset += lastOffsetDelta + 1;
      const producerId = readInt64(dv, pos + BatchOffset.producerId);
      const attributes = dv.getInt16(pos + BatchOffset.attributes);
      const isControl = (attributes & BatchAttribute.control) !== 0;
      if (isControl && origin === AppendOrigin.client) {
        fail('INVALID_RECORD', `produce to ${this.topicPartition} holds a control batch; only the transaction coordinator writes markers`);
      }
      if (producerId < 0) continue;
      const producerEpoch = dv.getInt16(pos + BatchOffset.producerEpoch);
      const existing = updated.get(producerId) ?? this.entries.get(producerId);
      if (isControl) {
        const entry = this.markerUpdate(existing, producerId, producerEpoch, origin);
        const firstOffset = entry.currentTxnFirstOffset;
        if (firstOffset >= 0) {
          const isAborted = isAbortMarker(bytes.subarray(pos, pos + batchSizeAt(dv, pos)));
          completed.push({ producerId, firstOffset, lastOffset: batchBase, isAborted, lastStableOffset: -1 });
        }
        entry.currentTxnFirstOffset = -1;
        entry.lastTimestampMs = nowMs;
        updated.set(producerId, entry);
        continue;
      }
      const firstSeq = dv.getInt32(pos + BatchOffset.baseSequence);
      const lastSeq = incrementSequence(firstSeq, lastOffsetDelta);
      const isTransactional = (attributes & BatchAttribute.transactional) !== 0;
      if (origin === AppendOrigin.client && existing !== undefined) {
        if (producerEpoch === existing.producerEpoch) {
          const duplicate = existing.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
          if (duplicate) return { kind: 'duplicate', baseOffset: duplicate.baseOffset, lastOffset: duplicate.lastOffset };
        }
        this.checkSequence(existing, producerEpoch, firstSeq);
        if (!isTransactional && existing.currentTxnFirstOffset >= 0) {
          fail('INVALID_TXN_STATE', `producer ${producerId} wrote a non-transactional batch to ${this.topicPartition} inside an open transaction`);
        }
      }
      const entry: ProducerEntry = existing
        ? cloneEntry(existing)
        : { producerId, producerEpoch, batches: [], currentTxnFirstOffset: -1, coordinatorEpoch: -1, lastTimestampMs: nowMs };
      if (producerEpoch !== entry.producerEpoch) {
        entry.producerEpoch = producerEpoch;
        entry.batches = [];
      }
      const metadata: BatchMetadata = { firstSeq, lastSeq, baseOffset: batchBase, lastOffset: offset - 1 };
      entry.batches.push(metadata);
      if (entry.batches.length > RETAINED_BATCHES) entry.batches.shift();
      if (isTransactional && entry.currentTxnFirstOffset < 0) entry.currentTxnFirstOffset = batchBase;
      entry.lastTimestampMs = nowMs;
      updated.set(producerId, entry);
    }
    return { kind: 'append', updates: [...updated.values()], completed };
  }

  /**
   * Kafka's rules: a lower epoch is fenced; a new epoch starts at sequence 0; within an epoch each
   * batch follows the last. A producer this partition has no state for (new or expired) is
   * accepted at any sequence (KIP-360), which the caller handles by not calling this.
   */
  private checkSequence(entry: ProducerEntry, producerEpoch: number, firstSeq: number): void {
    if (producerEpoch < entry.producerEpoch) {
      fail('INVALID_PRODUCER_EPOCH', `producer ${entry.producerId} epoch ${producerEpoch} is older than the current epoch ${entry.producerEpoch} on ${this.topicPartition}`);
    }
    const lastSeq = lastSequenceOf(entry);
    if (producerEpoch > entry.producerEpoch || lastSeq < 0) {
      if (firstSeq !== 0) {
        fail('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${entry.producerId} epoch ${producerEpoch} must start at sequence 0 on ${this.topicPartition}, got ${firstSeq}`);
      }
      return;
    }
    if (!inSequence(lastSeq, firstSeq)) {
      fail('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${entry.producerId} sent sequence ${firstSeq} to ${this.topicPartition}; expected ${incrementSequence(lastSeq, 1)}`);
    }
  }

  private markerUpdate(existing: ProducerEntry | undefined, producerId: number, producerEpoch: number, origin: AppendOriginValue): ProducerEntry {
    if (existing === undefined) {
      return { producerId, producerEpoch, batches: [], currentTxnFirstOffset: -1, coordinatorEpoch: -1, lastTimestampMs: 0 };
    }
    if (origin !== AppendOrigin.replay && producerEpoch < existing.producerEpoch) {
      fail('INVALID_PRODUCER_EPOCH', `marker for producer ${producerId} has epoch ${producerEpoch}, older than ${existing.producerEpoch} on ${this.topicPartition}`);
    }
    const entry = cloneEntry(existing);
    if (producerEpoch !== entry.producerEpoch) {
      entry.producerEpoch = producerEpoch;
      entry.batches = [];
    }
    return entry;
  }

  /** Installs a prepared append once its bytes are written; returns its completed transactions with their LSO filled in. */
  apply(prepared: PreparedAppend): CompletedTxn[] {
    for (const entry of prepared.updates) {
      this.entries.set(entry.producerId, entry);
      if (entry.currentTxnFirstOffset >= 0) {
        if (!this.ongoing.has(entry.producerId)) this.ongoing.set(entry.producerId, entry.currentTxnFirstOffset);
      } else {
        this.ongoing.delete(entry.producerId);
      }
    }
    for (const txn of prepared.completed) {
      this.unstable.push({ firstOffset: txn.firstOffset, lastOffset: txn.lastOffset });
      let lastStableOffset = txn.lastOffset + 1;
      for (const first of this.ongoing.values()) lastStableOffset = Math.min(lastStableOffset, first);
      txn.lastStableOffset = lastStableOffset;
    }
    return prepared.completed;
  }

  /**
   * The first offset a read_committed reader may not see yet: the start of the oldest open
   * transaction, or of the oldest completed one whose marker is not yet below `highWatermark`;
   * `highWatermark` when there is none.
   */
  firstUnstableOffset(highWatermark: number): number {
    let lso = highWatermark;
    for (const first of this.ongoing.values()) if (first < lso) lso = first;
    if (this.unstable.length > 0) {
      this.unstable = this.unstable.filter((t) => t.lastOffset >= highWatermark);
      for (const t of this.unstable) if (t.firstOffset < lso) lso = t.firstOffset;
    }
    return lso;
  }

  /** Forgets producers idle for `expirationMs` that have no open transaction; returns how many. */
  expire(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.entries) {
      if (entry.currentTxnFirstOffset < 0 && nowMs - entry.lastTimestampMs >= expirationMs) {
        this.entries.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  /** Replaces all state with a snapshot's entries. */
  load(entries: readonly ProducerEntry[]): void {
    this.entries.clear();
    this.ongoing.clear();
    this.unstable = [];
    for (const entry of entries) {
      this.entries.set(entry.producerId, entry);
      if (entry.currentTxnFirstOffset >= 0) this.ongoing.set(entry.producerId, entry.currentTxnFirstOffset);
    }
  }
}
