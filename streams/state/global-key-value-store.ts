import type { Serde } from '../../sdk/serde/serde.ts';
import { type BinaryCodec, binaryCodec } from './binary-codec.ts';
import { type BinaryString, binaryOf, prefixEnd } from './binary-string.ts';
import { CommittedState } from './committed-state.ts';
import type { GlobalStoreSpec } from './global-store-spec.ts';
import type { ReadOnlyKeyValueStore } from './key-value-store.ts';
import type { SortedTree } from './sorted-tree.ts';
import { committedEntries, mergeScan, type ScanBounds } from './merged-range.ts';

/**
 * The state of a global table: each key's latest value as read from its topic, as the topic's
 * bytes (binary strings in a hash map for point reads and a B+ tree for order). Only the reader of
 * the topic writes it (`apply`); processors read it. Reads decode copies. An iterator walks a
 * copy-on-write clone of the tree taken when it is made, so it sees the table as it was then
 * whatever the reader applies while it is used.
 */
export class GlobalKeyValueStore<K, V> implements ReadOnlyKeyValueStore<K, V> {
  readonly name: string;
  private readonly keySerde: Serde<K>;
  private readonly valueSerde: Serde<V>;
  private readonly keys: BinaryCodec<K>;
  private readonly values: BinaryCodec<V>;
  private readonly state = new CommittedState();

  constructor(readonly spec: GlobalStoreSpec) {
    this.name = spec.name;
    this.keySerde = spec.keySerde as Serde<K>;
    this.valueSerde = spec.valueSerde as Serde<V>;
    this.keys = binaryCodec(this.keySerde);
    this.values = binaryCodec(this.valueSerde);
  }

  /**
   * Applies one record of the topic: its value replaces the key's, a null value deletes it. The
   * key and value are deserialized first, so a record the serdes refuse throws and changes nothing.
   */
  apply(key: Uint8Array, value: Uint8Array | null): void {
    this.keySerde.deserialize(key);
    if (value === null) {
      this.state.delete(binaryOf(key));
      return;
    }
    this.valueSerde.deserialize(value);
    this.state.set(binaryOf(key), binaryOf(value));
  }

  /** Empties the store (before it is rebuilt from the start of its topic). */
  clear(): void {
    this.state.clear();
  }

  /** Replaces the state with a snapshot's (`keys` strictly ascending). */
  load(keys: readonly BinaryString[], values: readonly BinaryString[]): Promise<void> {
    return this.state.load(keys, values);
  }

  /** The state as of now, in key order: a copy-on-write clone, cheap to take and unchanged by later applies. */
  ordered(): SortedTree<BinaryString> {
    return this.state.ordered().clone();
  }

  get(key: K): V | undefined {
    const value = this.state.get(this.keys.encode(key));
    return value === undefined ? undefined : this.values.decode(value);
  }

  range(from?: K, to?: K): IterableIterator<[K, V]> {
    return this.scan(this.boundsOf(from, to, false));
  }

  reverseRange(from?: K, to?: K): IterableIterator<[K, V]> {
    return this.scan(this.boundsOf(from, to, true));
  }

  prefixScan(prefix: K): IterableIterator<[K, V]> {
    const low = this.keys.encode(prefix);
    return this.scan({ low, high: prefixEnd(low), highInclusive: false, reverse: false });
  }

  all(): IterableIterator<[K, V]> {
    return this.scan({ low: undefined, high: undefined, highInclusive: true, reverse: false });
  }

  approximateNumEntries(): number {
    return this.state.size;
  }

  private boundsOf(from: K | undefined, to: K | undefined, reverse: boolean): ScanBounds {
    const low: BinaryString | undefined = from === undefined ? undefined : this.keys.encode(from);
    const high: BinaryString | undefined = to === undefined ? undefined : this.keys.encode(to);
    return { low, high, highInclusive: true, reverse };
  }

  private scan(bounds: ScanBounds): IterableIterator<[K, V]> {
    if (bounds.low !== undefined && bounds.high !== undefined && bounds.low > bounds.high) return [][Symbol.iterator]();
    const tree = this.state.ordered().clone();
    return mergeScan<K, V>([], committedEntries(tree, bounds), bounds.reverse, this.keys, this.values, () => undefined);
  }
}
