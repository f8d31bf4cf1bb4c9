import type { BinaryString } from './binary-string.ts';
import type { StoreSnapshot } from './task-store.ts';

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
