import { Effect } from 'effect';
import type { ForwardedReadable } from '../state/key-value-store.ts';
import type { ValueAndTimestamp } from '../state/value-and-timestamp.ts';
import type { ProcessorContext } from '../topology/processor.ts';
import type { TableStore } from './table-forwarder.ts';
import type { UserResult } from './user-result.ts';

/** A value now, or once a user function's promise or Effect settles. */
export type Settling<T> = T | PromiseLike<T>;

/**
 * `next` applied to a user function's result: at once for a plain value, once it settles for a
 * promise or an Effect (run with `Effect.runPromise`).
 */
export function andThen<T, R>(result: UserResult<T>, next: (value: T) => Settling<R>): Settling<R> {
  if (result !== null && typeof result === 'object') {
    if (Effect.isEffect(result)) return Effect.runPromise(result as Effect.Effect<T, unknown, never>).then(next);
    if (typeof (result as PromiseLike<T>).then === 'function') return (result as PromiseLike<T>).then(next);
  }
  return next(result as T);
}

/** A table's current value of a key with the timestamp of the update that made it; undefined when the key is absent. */
export type TableValueGetter<K, V> = (key: K) => Settling<ValueAndTimestamp<V> | undefined>;

/**
 * Which state of a table a getter reads. `latest`: every write so far, those a cached table has
 * not forwarded yet included (a stream-table join joins the table as it is now). `forwarded`: the
 * state downstream has been told of (a cached table's writes since its last flush left out): a
 * table-table join joins one side's change with the other side as its changes went out, so a key
 * changed on both sides within one commit still ends with the right row (the first side's change
 * retracts the row made with the second side's old value; the second side's change then finds
 * the first side as forwarded).
 */
export type TableView = 'latest' | 'forwarded';

/**
 * How a processor reads a table's current value by key (Kafka Streams' KTableValueGetterSupplier):
 * a table that owns a store reads it; a table computed on the fly (filter, mapValues, a join)
 * asks its parents' getters and applies its operator, so reading it costs no store of its own.
 * The reading processor must be connected to `storeNames` (the stores at the roots of the chain),
 * which puts it in the same sub-topology, and so the same tasks, as the table.
 */
export interface TableValueGetterSupplier<K, V> {
  readonly storeNames: readonly string[];
  /** Called in the reading processor's `init`, with its context. */
  init(ctx: ProcessorContext<unknown, unknown>, view: TableView): TableValueGetter<K, V>;
}

/** Reads a table's own store (a table source, an aggregation). */
export function storeValueGetter<K, V>(storeName: string): TableValueGetterSupplier<K, V> {
  return {
    storeNames: [storeName],
    init: (ctx, view) => {
      const store = ctx.getStateStore<TableStore<K, V> & Partial<ForwardedReadable<K, ValueAndTimestamp<V>>>>(storeName);
      if (view === 'forwarded') {
        if (typeof store.getForwarded !== 'function') throw new Error(`invariant: the table store "${storeName}" cannot say what it forwarded`);
        return (key) => store.getForwarded!(key);
      }
      return (key) => store.get(key);
    },
  };
}

/** A filtered table's value: the parent's while it matches. */
export function filterValueGetter<K, V>(parent: TableValueGetterSupplier<K, V>, predicate: (key: K, value: V) => UserResult<boolean>, keep: boolean): TableValueGetterSupplier<K, V> {
  return {
    storeNames: parent.storeNames,
    init: (ctx, view) => {
      const get = parent.init(ctx, view);
      return (key) =>
        andThen(get(key), (found): Settling<ValueAndTimestamp<V> | undefined> => (found === undefined ? undefined : andThen(predicate(key, found.value), (matches) => (matches === keep ? found : undefined))));
    },
  };
}

/** A mapped table's value: the parent's, mapped, with the parent's timestamp. */
export function mapValuesValueGetter<K, V, VR>(parent: TableValueGetterSupplier<K, V>, mapper: (value: V, key: K) => UserResult<VR>): TableValueGetterSupplier<K, VR> {
  return {
    storeNames: parent.storeNames,
    init: (ctx, view) => {
      const get = parent.init(ctx, view);
      return (key) =>
        andThen(get(key), (found): Settling<ValueAndTimestamp<VR> | undefined> => (found === undefined ? undefined : andThen(mapper(found.value, key), (value) => ({ value, timestamp: found.timestamp }))));
    },
  };
}
