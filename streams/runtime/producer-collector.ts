import type { Producer } from '../../sdk/client/producer/producer.ts';
import type { OutputRecord, RecordCollector } from './record-collector.ts';

/** Records handed to the producer in one call: a processing loop's worth, bounded. */
const DISPATCH_RECORDS = 2048;
/** Bound on sendBatch calls whose answers are outstanding before `send` waits for a flush. */
const MAX_PENDING_DISPATCHES = 1024;

/**
 * The runtime's collector: records go to the producer in batches (one `sendAll` per dispatch, not
 * a promise or an answer object per record). The first failed send is kept and reported by `flush`, which a
 * commit awaits before it sends offsets, so a transaction never commits around a lost record.
 * It also remembers, per changelog partition, the offset after the last record this transaction
 * wrote there: the changelog offset a store's committed state covers.
 */
export class ProducerCollector implements RecordCollector {
  private pending: OutputRecord[] = [];
  private dispatches: Promise<void>[] = [];
  private failure: unknown = undefined;
  private readonly changelogEnds = new Map<string, number>();

  constructor(
    private producer: Producer<Uint8Array, Uint8Array | string>,
    private readonly partitions: ReadonlyMap<string, number>,
    private readonly isChangelog: (topic: string) => boolean,
  ) {}

  send(record: OutputRecord): void {
    this.pending.push(record);
    if (this.pending.length >= DISPATCH_RECORDS) this.dispatch();
  }

  partitionCount(topic: string): number | undefined {
    return this.partitions.get(topic);
  }

  /** Hands the records gathered so far to the producer. */
  dispatch(): void {
    if (this.pending.length === 0) return;
    if (this.dispatches.length >= MAX_PENDING_DISPATCHES) this.dispatches = [Promise.all(this.dispatches).then(() => undefined)];
    const records = this.pending;
    this.pending = [];
    this.dispatches.push(
      this.producer.sendAll(records).then(
        (ends) => {
          for (const [topic, partitions] of ends) {
            if (!this.isChangelog(topic)) continue;
            for (const [partition, end] of partitions) {
              const key = `${topic}\u0000${partition}`;
              if (end > (this.changelogEnds.get(key) ?? -1)) this.changelogEnds.set(key, end);
            }
          }
        },
        (error: unknown) => {
          this.failure ??= error;
        },
      ),
    );
  }

  /** Sends everything, waits for every answer, and throws the first failure since the last `reset`. */
  async flush(): Promise<void> {
    this.dispatch();
    await this.producer.flush().catch((error: unknown) => {
      this.failure ??= error;
    });
    const outstanding = this.dispatches;
    this.dispatches = [];
    await Promise.all(outstanding);
    if (this.failure !== undefined) throw this.failure;
  }

  /** The offset after the last record written to a changelog partition since the last reset, if any. */
  changelogEnd(topic: string, partition: number): number | undefined {
    return this.changelogEnds.get(`${topic}\u0000${partition}`);
  }

  /** Starts a new transaction's bookkeeping (after a commit or an abort); records not yet handed over are dropped. */
  reset(producer?: Producer<Uint8Array, Uint8Array | string>): void {
    if (producer !== undefined) this.producer = producer;
    this.pending = [];
    this.dispatches = [];
    this.failure = undefined;
    this.changelogEnds.clear();
  }
}
