import type { StateStore } from '../state/state-store.ts';
import type { TaskId } from '../topology/processor.ts';
import type { HostTasks } from '../runtime/streams-assignor.ts';

/** A task this process holds: running (its stores are current), restoring, or suspended (given up in a rebalance, kept). */
export interface HeldTask {
  readonly id: TaskId;
  readonly state: 'restoring' | 'running' | 'suspended';
  store(name: string): StateStore | undefined;
}

/** What interactive queries read of the runtime at one moment. */
export interface QueryView {
  readonly tasks: readonly HeldTask[];
  /** Every member's tasks by endpoint, from the last assignment. */
  readonly hosts: ReadonlyMap<string, HostTasks>;
}
