import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BinaryString } from './binary-string.ts';
import type { StoreSnapshot } from './task-store.ts';

/** Snapshot entries taken between two yields to the event loop while collecting. */
const COLLECT_PER_TURN = 1 << 15;

/**
 * A snapshot held as two arrays, keys strictly ascending: what a snapshot file decodes into. A
 * store loads it without iterating it (the arrays go straight into the tree's bulk load).
 */
export class ArraySnapshot implements StoreSnapshot {
  constructor(
    readonly changelogOffset: number,
    readonly keys: readonly BinaryString[],
    readonly values: readonly BinaryString[],
  ) {
    if (keys.length !== values.length) throw new Error(`invariant: a snapshot of ${keys.length} keys and ${values.length} values`);
  }

  get entryCount(): number {
    return this.keys.length;
  }

  *entries(): IterableIterator<readonly [BinaryString, BinaryString]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i]!, this.values[i]!];
  }
}

/** A snapshot's entries as two arrays: an ArraySnapshot's own, else collected in slices with the event loop running between them. */
export async function arraysOf(snapshot: StoreSnapshot): Promise<{ keys: readonly BinaryString[]; values: readonly BinaryString[] }> {
  if (snapshot instanceof ArraySnapshot) return snapshot;
  const keys: BinaryString[] = [];
  const values: BinaryString[] = [];
  for (const [key, value] of snapshot.entries()) {
    if (keys.length > 0 && keys.length % COLLECT_PER_TURN === 0) await nextTurn();
    keys.push(key);
    values.push(value);
  }
  return { keys, values };
}
