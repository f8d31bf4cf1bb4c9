import type { Serde } from '../../sdk/serde/serde.ts';
import type { ValueAndTimestamp } from '../state/value-and-timestamp.ts';
import type { ProcessorContext, ProcessorSupplier } from '../topology/processor.ts';
import { passThroughProcessor } from './stateless-processors.ts';
import type { Change } from './change.ts';
import type { DslContext } from './dsl-context.ts';
import type { Named } from './kstream.ts';
import { KTable, type OldValues } from './ktable.ts';
import { andThen, type Settling, type TableValueGetter, type TableValueGetterSupplier } from './table-value-getter.ts';
import type { UserResult } from './user-result.ts';

/** How a table-table join is done (Kafka Streams' `TableJoined` with `Materialized`'s serde): its name and the serde of the joined values. */
export interface TableJoinedOptions<VR> extends Named {
  value?: Serde<VR>;
}

export const TableJoinKind = { inner: 'inner', left: 'left', outer: 'outer' } as const;
export type TableJoinKindValue = (typeof TableJoinKind)[keyof typeof TableJoinKind];

/** A joiner with both sides' values, null for an absent side (only where the join kind allows it). */
export type TableJoiner<K, V, VO, VR> = (value: V | null, otherValue: VO | null, key: K) => UserResult<VR>;

/** Which sides a join result needs: both (inner), the left one (left), either (outer). */
function requiredSides(kind: TableJoinKindValue): { left: boolean; right: boolean } {
  return { left: kind !== 'outer', right: kind === 'inner' };
}

/** Whether a key with these values has a join row: each required side present, and at least one side. */
function hasRow<V, VO>(left: V | undefined, right: VO | undefined, required: { left: boolean; right: boolean }): boolean {
  return (left !== undefined || !required.left) && (right !== undefined || !required.right) && (left !== undefined || right !== undefined);
}

/**
 * `left.join(right)`, `leftJoin`, `outerJoin` (Kafka Streams' KTable-KTable joins): a table of the
 * joined value per key, updated when either side changes.
 *
 * - A change on one side is joined with the other side's current value (read through its value
 *   getter: its store, or its parent's through filter/mapValues). Inner: a row while both sides
 *   have the key; left: while the left side has it (the right value null when absent); outer:
 *   while either side has it (the absent side null).
 * - When a change removes a key's row, the result gets a delete (a tombstone in `toStream()`);
 *   a change that neither makes nor removes a row forwards nothing. A joiner that returns null or
 *   undefined also means "no row".
 * - The result's timestamp is the larger of the two sides' timestamps (the changed side's update,
 *   the other side's last update), Kafka Streams' rule; with only one side present, that side's.
 * - Both sides must be co-partitioned (the same key in the same partition number): they end up in
 *   one sub-topology, whose input topics the runtime checks before start.
 * - With cached tables the sides forward at commit, each joined with the other side's latest
 *   value, so a key changed on both sides in one commit may be emitted twice (the final value is
 *   the same), as in Kafka Streams.
 */
export function tableTableJoin<K, V, VO, VR, DL extends null, DR extends null>(
  ctx: DslContext,
  left: KTable<K, V, DL>,
  right: KTable<K, VO, DR>,
  joiner: TableJoiner<K, V, VO, VR>,
  options: TableJoinedOptions<VR> | undefined,
  kind: TableJoinKindValue,
): KTable<K, VR, null> {
  const what = `a table ${kind === 'inner' ? 'join' : `${kind}Join`}()`;
  const leftGetter = left.valueGetter(what);
  const rightGetter = right.valueGetter(what);
  // Old values tell whether a change removed a row, so deletes are forwarded exactly when a row disappears.
  left.oldValues.enable();
  right.oldValues.enable();
  const sendOld = { send: false };
  const required = requiredSides(kind);
  const prefix = { inner: 'KTABLE-JOIN', left: 'KTABLE-LEFTJOIN', outer: 'KTABLE-OUTERJOIN' }[kind];
  const thisName = options?.name === undefined ? ctx.nextName(`${prefix}THIS`) : `${options.name}-join-this`;
  const otherName = options?.name === undefined ? ctx.nextName(`${prefix}OTHER`) : `${options.name}-join-other`;
  ctx.topology.addProcessor(
    thisName,
    tableJoinSideProcessor<K, V, VO, VR>(rightGetter, { self: required.left, other: required.right }, joiner, sendOld),
    [left.nodeName],
    rightGetter.storeNames,
  );
  ctx.topology.addProcessor(
    otherName,
    tableJoinSideProcessor<K, VO, V, VR>(leftGetter, { self: required.right, other: required.left }, (value, otherValue, key) => joiner(otherValue, value, key), sendOld),
    [right.nodeName],
    leftGetter.storeNames,
  );
  const name = ctx.name(options?.name, 'KTABLE-MERGE');
  ctx.topology.addProcessor(name, passThroughProcessor<K, Change<VR>>(), [thisName, otherName]);
  const oldValues: OldValues = { enable: () => void (sendOld.send = true) };
  return new KTable<K, VR, null>(ctx, name, left.keySerde, options?.value, undefined, oldValues, undefined, joinValueGetter(leftGetter, rightGetter, required, joiner));
}

/**
 * One side of a table-table join: a change of this side's value for a key, joined with the other
 * side's current value. `required` says which sides a row needs; `joiner` takes this side first.
 * The old row is only computed when an operator below asked for old values.
 */
function tableJoinSideProcessor<K, V, VO, VR>(
  otherGetter: TableValueGetterSupplier<K, VO>,
  required: { self: boolean; other: boolean },
  joiner: TableJoiner<K, V, VO, VR>,
  oldValues: { readonly send: boolean },
): ProcessorSupplier<K, Change<V>, K, Change<VR>> {
  return () => {
    let ctx: ProcessorContext<K, Change<VR>>;
    let getOther: TableValueGetter<K, VO>;
    const sendOld = oldValues.send;
    const sides = { left: required.self, right: required.other };
    const row = (key: K, value: V | undefined, other: VO | undefined, exists: boolean): Settling<VR | undefined> =>
      exists ? andThen(joiner(value ?? null, other ?? null, key), (joined) => (joined === null ? undefined : joined)) : undefined;
    return {
      init: (context) => {
        ctx = context;
        getOther = otherGetter.init(context as ProcessorContext<unknown, unknown>, 'forwarded');
      },
      process: (record) => {
        const { key } = record;
        if (key === null || key === undefined) return undefined;
        const { newValue, oldValue } = record.value;
        return andThen(getOther(key), (found) => {
          const other = found?.value;
          const newExists = hasRow(newValue, other, sides);
          const oldExists = hasRow(oldValue, other, sides);
          if (!newExists && !oldExists) return undefined;
          const timestamp = found === undefined ? record.timestamp : Math.max(record.timestamp, found.timestamp);
          return andThen(row(key, newValue, other, newExists), (joinedNew) =>
            andThen(row(key, oldValue, other, sendOld && oldExists), (joinedOld) => {
              ctx.forward(record.withValue({ newValue: joinedNew, oldValue: joinedOld }).withTimestamp(timestamp));
            }),
          );
        });
      },
    };
  };
}

/** The join result's value of a key, from both sides' getters: how a table joined with a join result reads it. */
function joinValueGetter<K, V, VO, VR>(
  left: TableValueGetterSupplier<K, V>,
  right: TableValueGetterSupplier<K, VO>,
  required: { left: boolean; right: boolean },
  joiner: TableJoiner<K, V, VO, VR>,
): TableValueGetterSupplier<K, VR> {
  return {
    storeNames: [...new Set([...left.storeNames, ...right.storeNames])],
    init: (ctx, view) => {
      const getLeft = left.init(ctx, view);
      const getRight = right.init(ctx, view);
      return (key) =>
        andThen(getLeft(key), (l) =>
          andThen(getRight(key), (r): Settling<ValueAndTimestamp<VR> | undefined> => {
            if (!hasRow(l?.value, r?.value, required)) return undefined;
            const timestamp = Math.max(l?.timestamp ?? -Infinity, r?.timestamp ?? -Infinity);
            return andThen(joiner(l === undefined ? null : l.value, r === undefined ? null : r.value, key), (joined) =>
              joined === null || joined === undefined ? undefined : { value: joined, timestamp },
            );
          }),
        );
    },
  };
}
