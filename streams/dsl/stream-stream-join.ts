import type { Serde } from '../../sdk/serde/serde.ts';
import { joinSideKeySerde, joinSideValuesSerde } from '../state/outer-join-store-serdes.ts';
import type { KeyValueStoreSpec, WindowStoreSpec } from '../state/store-spec.ts';
import { valueListSerde } from '../state/value-list-serde.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import { TopologyError } from '../topology/topology.ts';
import type { DslContext } from './dsl-context.ts';
import type { JoinWindows } from './join-windows.ts';
import type { KStream } from './kstream.ts';
import { joinSideProcessor, type JoinKindValue, streamStreamJoinProcessor, type ValueJoiner } from './stream-stream-join-processor.ts';

/**
 * How a stream-stream join keeps its state (Kafka Streams' `StreamJoined`): serdes for its stores
 * and repartition topics (default: the streams'), and names.
 */
export interface StreamJoinedOptions<K, V, VO> {
  /**
   * The join processor's name (generated when absent); also the base of the repartition topics
   * `<name>-left-repartition` and `<name>-right-repartition`, when a side's key changed.
   */
  name?: string;
  /**
   * The base of the store names: `<storeName>-this-join-store` (this stream's records),
   * `<storeName>-other-join-store` (the other's) and, for left and outer joins,
   * `<storeName>-outer-shared-join-store` (records still waiting for a match). Default: the
   * processor's name. Each store's changelog is `<applicationId>-<store>-changelog`.
   */
  storeName?: string;
  key?: Serde<K>;
  /** This stream's values. */
  value?: Serde<V>;
  /** The other stream's values. */
  otherValue?: Serde<VO>;
  /** Default true: the stores have changelog topics and survive a crash; false: rebuilt from nothing. */
  logged?: boolean;
  /** Changelog topic configs beyond `cleanup.policy=compact`. */
  changelogConfig?: Readonly<Record<string, string>>;
}

const PREFIX: Readonly<Record<JoinKindValue, string>> = { inner: 'KSTREAM-JOIN', left: 'KSTREAM-LEFTJOIN', outer: 'KSTREAM-OUTERJOIN' };

/**
 * Declares a windowed join of `left` with `right`: both sides (through a repartition topic each
 * when its key changed since it was partitioned, records with a null key dropped before it) go
 * into one join processor of one sub-topology, so their topics must be co-partitioned; the
 * topology checks that before start. Returns the node of the join's output.
 */
export function streamStreamJoin<K, V, VO, VR>(
  ctx: DslContext,
  kind: JoinKindValue,
  left: KStream<K, V>,
  right: KStream<K, VO>,
  joiner: ValueJoiner<K, V | null, VO | null, VR>,
  windows: JoinWindows,
  options: StreamJoinedOptions<K, V, VO>,
): { nodeName: string; keySerde: Serde<K> } {
  const what = `${kind === 'inner' ? 'join' : `${kind}Join`}()`;
  const name = ctx.name(options.name, PREFIX[kind]);
  const keySerde = options.key ?? left.keySerde ?? right.keySerde;
  const valueSerde = options.value ?? left.valueSerde;
  const otherValueSerde = options.otherValue ?? right.valueSerde;
  const missing = [
    keySerde === undefined ? 'key' : undefined,
    valueSerde === undefined ? 'value (this stream)' : undefined,
    otherValueSerde === undefined ? 'otherValue (the other stream)' : undefined,
  ].filter((m) => m !== undefined);
  if (keySerde === undefined || valueSerde === undefined || otherValueSerde === undefined) {
    throw new TopologyError(`${what} "${name}" needs serdes for its stores: ${missing.join(', ')}; the streams' types changed since their last serdes, pass them in the options`);
  }

  const input = <VX>(stream: KStream<K, VX>, side: 'left' | 'right', value: Serde<VX>): string => {
    const partitioned = stream.keyChanged
      ? stream.filter((key) => key !== null && key !== undefined, { name: `${name}-${side}-repartition-filter` }).throughRepartition(`${name}-${side}`, { key: keySerde, value })
      : stream;
    const tag = `${name}-${side === 'left' ? 'this' : 'other'}`;
    ctx.topology.addProcessor(tag, joinSideProcessor(side) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [partitioned.nodeName]);
    return tag;
  };
  const parents = [input(left, 'left', valueSerde), input(right, 'right', otherValueSerde)];

  const storeBase = options.storeName ?? name;
  const windowStore = (storeName: string, value: Serde<unknown>): WindowStoreSpec => ({
    name: storeName,
    kind: 'window',
    keySerde: keySerde as Serde<unknown>,
    valueSerde: valueListSerde(value) as Serde<unknown>,
    // Each record is kept at its timestamp: a "window" of 1 ms.
    windowSizeMs: 1,
    retentionMs: windows.retentionMs,
    logged: options.logged ?? true,
    cached: false,
    changelogConfig: options.changelogConfig ?? {},
    internal: true,
  });
  const leftStore = windowStore(`${storeBase}-this-join-store`, valueSerde as Serde<unknown>);
  const rightStore = windowStore(`${storeBase}-other-join-store`, otherValueSerde as Serde<unknown>);
  const outerStore: KeyValueStoreSpec | undefined =
    kind === 'inner'
      ? undefined
      : {
          name: `${storeBase}-outer-shared-join-store`,
          kind: 'keyValue',
          keySerde: joinSideKeySerde(keySerde) as Serde<unknown>,
          valueSerde: joinSideValuesSerde(valueSerde, otherValueSerde) as Serde<unknown>,
          logged: options.logged ?? true,
          cached: false,
          changelogConfig: options.changelogConfig ?? {},
          internal: true,
        };
  const stores = [leftStore, rightStore, ...(outerStore === undefined ? [] : [outerStore])];
  for (const store of stores) ctx.topology.addStore(store);

  const processor = streamStreamJoinProcessor<K, V, VO, VR>({ kind, windows, leftStore: leftStore.name, rightStore: rightStore.name, outerStore: outerStore?.name }, joiner);
  ctx.topology.addProcessor(name, processor as ProcessorSupplier<unknown, unknown, unknown, unknown>, parents, stores.map((s) => s.name));
  return { nodeName: name, keySerde };
}
