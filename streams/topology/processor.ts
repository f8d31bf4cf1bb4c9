import type { StateStore } from '../state/state-store.ts';
import type { Cancellable, Punctuator, PunctuationTypeValue } from './punctuation.ts';
import type { StreamRecord } from './stream-record.ts';

/**
 * What a processor step returns: nothing when it finished synchronously, or a promise-like that
 * settles when its work is done. The runtime follows it: records with the same key wait for it,
 * other keys go on, and a commit waits for every one in flight.
 */
export type ProcessResult = void | PromiseLike<unknown>;

/** A task: one sub-topology working on one partition number of its input topics. */
export interface TaskId {
  readonly subtopology: number;
  readonly partition: number;
}

/** Kafka Streams' task id text, `<subtopology>_<partition>`. */
export function taskIdText(id: TaskId): string {
  return `${id.subtopology}_${id.partition}`;
}

/** A processor's view of its task: forwarding to its children, its stores and the task's clocks. */
export interface ProcessorContext<KOut, VOut> {
  readonly applicationId: string;
  readonly taskId: TaskId;
  /**
   * Passes `record` to every child (or only to the child named `childName`), synchronously. A
   * child that continues asynchronously is followed by the runtime through the input record
   * `record` descends from, so forward records derived from the one being processed, and forward
   * only while processing it (before the promise `process` returned settles).
   */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  /** A store this processor was connected to when the topology was built, or any global store (read-only) by its name. */
  getStateStore<S extends StateStore>(name: string): S;
  /** The largest record timestamp the task has seen, -1 before its first record. */
  currentStreamTimeMs(): number;
  currentSystemTimeMs(): number;
  /**
   * Drops `record` because every window it belongs to has closed (it came later than the grace
   * period allows): the task counts it in its late-records metric and, when the application's
   * failure policy says `lateRecords: 'dlq'`, writes its input record to the dead-letter topic
   * with `reason`. For records an operator leaves out entirely, never for ones it used.
   */
  dropLateRecord(record: StreamRecord<unknown, unknown>, reason: string): void;
  /**
   * Calls `punctuator` every `intervalMs` of stream time or wall-clock time (Kafka Streams'
   * semantics): a stream-time schedule is aligned to 0 and fires when a record moves stream time
   * to or past its due time, a wall-clock one is due `intervalMs` after scheduling; either fires
   * once however far time jumped, then is due at the next multiple of the interval after now.
   * A punctuation waits for the task's records in flight, and the task takes its next record once
   * the punctuation's work finished. Schedule in `init()`: schedules end when the task closes.
   */
  schedule(intervalMs: number, type: PunctuationTypeValue, punctuator: Punctuator): Cancellable;
}

/**
 * The low-level processor API (the DSL's operators are processors too). `process` may return a
 * promise; within a task, records with the same input key are processed one after another in
 * input order, records with other keys concurrently up to the task's bound.
 */
export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  /** Runs once per task before its first record, after the task's stores were restored: they hold their committed contents. */
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): ProcessResult;
  close?(): void;
}

/** Makes a fresh processor for each task. */
export type ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> = () => Processor<KIn, VIn, KOut, VOut>;

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
