import type { StateStore } from '../state/state-store.ts';
import { isPromiseLike, type Processor, type ProcessorContext, type TaskId } from '../topology/processor.ts';
import type { Cancellable, Punctuator, PunctuationTypeValue } from '../topology/punctuation.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import { Job } from './job.ts';

/** What every node of a task shares: the task's identity, stores, clocks and untracked-work sink. */
export interface NodeEnvironment {
  readonly applicationId: string;
  readonly taskId: TaskId;
  store(name: string): StateStore;
  /** A global store of the process, which every processor may read without being connected to it. */
  globalStore?(name: string): StateStore | undefined;
  streamTimeMs(): number;
  nowMs(): number;
  /** Asynchronous work of a record that descends from no input (a punctuator's, a cache flush's). */
  trackDetached(work: PromiseLike<unknown>): void;
  /** A record dropped for arriving after its windows closed. */
  lateRecord(record: StreamRecord<unknown, unknown>, reason: string): void;
  schedule(node: string, intervalMs: number, type: PunctuationTypeValue, punctuator: Punctuator): Cancellable;
}

/**
 * One node of a task: its processor, its children and the context it hands the processor. A
 * promise a processor returns is counted against the input record the processed record descends
 * from; a synchronous throw propagates to the task, which fails the input record.
 */
export class NodeRunner implements ProcessorContext<unknown, unknown> {
  readonly children: NodeRunner[] = [];
  private readonly allowedStores: ReadonlySet<string>;

  constructor(
    readonly name: string,
    private readonly processor: Processor<unknown, unknown, unknown, unknown>,
    stores: readonly string[],
    private readonly env: NodeEnvironment,
  ) {
    this.allowedStores = new Set(stores);
  }

  get applicationId(): string {
    return this.env.applicationId;
  }

  get taskId(): TaskId {
    return this.env.taskId;
  }

  init(): void {
    this.processor.init?.(this);
  }

  close(): void {
    this.processor.close?.();
  }

  process(record: StreamRecord<unknown, unknown>): void {
    const result = this.processor.process(record);
    if (result === undefined || !isPromiseLike(result)) return;
    const origin = record.metadata;
    if (origin instanceof Job) origin.track(result);
    else this.env.trackDetached(result);
  }

  forward(record: StreamRecord<unknown, unknown>, childName?: string): void {
    if (childName !== undefined) {
      const child = this.children.find((c) => c.name === childName);
      if (child === undefined) throw new Error(`node "${this.name}" has no child named "${childName}"`);
      child.process(record);
      return;
    }
    const children = this.children;
    for (let i = 0; i < children.length; i++) children[i]!.process(record);
  }

  getStateStore<S extends StateStore>(name: string): S {
    if (!this.allowedStores.has(name)) {
      const global = this.env.globalStore?.(name);
      if (global !== undefined) return global as S;
      throw new Error(`processor "${this.name}" is not connected to a store named "${name}"`);
    }
    return this.env.store(name) as S;
  }

  currentStreamTimeMs(): number {
    return this.env.streamTimeMs();
  }

  currentSystemTimeMs(): number {
    return this.env.nowMs();
  }

  dropLateRecord(record: StreamRecord<unknown, unknown>, reason: string): void {
    this.env.lateRecord(record, reason);
  }

  schedule(intervalMs: number, type: PunctuationTypeValue, punctuator: Punctuator): Cancellable {
    return this.env.schedule(this.name, intervalMs, type, punctuator);
  }
}
