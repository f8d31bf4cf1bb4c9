/** An element of a SwapRemoveList: its position there, -1 while in none. */
export interface Indexed {
  index: number;
}

/**
 * A list whose elements know their position, so removing one is O(1): the last element takes its
 * place. For sets that churn thousands of times a second (parked fetches, high-watermark
 * listeners), where a Set's rehashing allocates on the hot path. Order is not kept.
 */
export class SwapRemoveList<T extends Indexed> {
  private readonly list: T[] = [];

  /** The elements, in no particular order; removing one moves the last into its place. */
  get items(): readonly T[] {
    return this.list;
  }

  get length(): number {
    return this.list.length;
  }

  add(item: T): void {
    item.index = this.list.length;
    this.list.push(item);
  }

  /** Removes `item`; false if it was not in the list. */
  remove(item: T): boolean {
    if (item.index < 0 || this.list[item.index] !== item) return false;
    const last = this.list.pop()!;
    if (last !== item) {
      this.list[item.index] = last;
      last.index = item.index;
    }
    item.index = -1;
    return true;
  }
}
