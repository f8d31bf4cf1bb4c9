import type { Serde } from '../../sdk/serde/serde.ts';
import { TopologyBuilder } from '../topology/topology-builder.ts';
import type { Topology } from '../topology/topology.ts';
import { nullable } from '../topology/nullable-serde.ts';
import { DslContext, defaultBytesSerde } from './dsl-context.ts';
import { KStream, type Named } from './kstream.ts';
import { alwaysSendsOldValues, KTable } from './ktable.ts';
import { type MaterializedOptions, tableStoreSpec } from './materialized.ts';
import { tableSourceProcessor } from './table-processors.ts';
import { GlobalKTable } from './global-ktable.ts';

/** How a source reads its topic: serdes for keys and values (raw bytes, null allowed, when absent). */
export interface ConsumedOptions<K, V> extends Named {
  key?: Serde<K>;
  value?: Serde<V>;
}

/** A table read from a topic: its serdes, and how its store is kept (`name` names the store). */
export interface TableOptions<K, V> extends Omit<MaterializedOptions<K, V>, 'key' | 'value'> {
  key: Serde<K>;
  value: Serde<V>;
}

/** A store for low-level processors (`process(..., { stores: [name] })`): keys and values as the serdes say. */
export interface KeyValueStoreOptions<K, V> {
  name: string;
  key: Serde<K>;
  value: Serde<V>;
  /** Default false; true: the store tells a flush listener what changed at each commit (`FlushListenable`). */
  cached?: boolean;
  /** Default true: the store has a compacted changelog topic `<applicationId>-<name>-changelog`. */
  logged?: boolean;
  changelogConfig?: Readonly<Record<string, string>>;
}

/**
 * The entry point of the DSL (Kafka Streams' StreamsBuilder): declare sources, chain operators,
 * then `build()` the topology a StreamsApp or the test driver runs.
 */
export class StreamsBuilder {
  private readonly ctx = new DslContext(new TopologyBuilder());

  /**
   * A stream of the records of `topics`. Without a key (value) serde the keys (values) are raw
   * bytes or null; with one, a record whose key (value) is null is a deserialization error unless
   * the serde is `nullable(...)`.
   */
  stream<K = Uint8Array | null, V = Uint8Array | null>(topics: string | readonly string[], options?: ConsumedOptions<K, V>): KStream<K, V> {
    const name = this.ctx.name(options?.name, 'KSTREAM-SOURCE');
    const keySerde = options?.key ?? (defaultBytesSerde as Serde<K>);
    const valueSerde = options?.value ?? (defaultBytesSerde as Serde<V>);
    this.ctx.topology.addSource(name, typeof topics === 'string' ? [topics] : topics, { key: keySerde as Serde<unknown>, value: valueSerde as Serde<unknown> });
    return new KStream<K, V>(this.ctx, name, keySerde, valueSerde, false);
  }

  /**
   * A table of the latest value per key of `topic`, kept in a store (`name`, default
   * `<topic>-STATE-STORE-<n>`): a record with a null value deletes its key (the value serde never
   * sees it), the latest record by offset wins whatever its timestamp, a record with a null key is
   * skipped (with a `nullable` key serde; otherwise it is a deserialization error).
   */
  table<K, V>(topic: string, options: TableOptions<K, V>): KTable<NonNullable<K>, NonNullable<V>> {
    const storeName = this.ctx.name(options.name, `${topic}-STATE-STORE`);
    const spec = tableStoreSpec(storeName, options.key, options.value, options);
    this.ctx.topology.addStore(spec);
    const sourceName = this.ctx.nextName('KSTREAM-SOURCE');
    this.ctx.topology.addSource(sourceName, [topic], { key: options.key as Serde<unknown>, value: nullable(options.value) as Serde<unknown> });
    const name = this.ctx.nextName('KTABLE-SOURCE');
    this.ctx.topology.addProcessor(name, tableSourceProcessor(storeName, options.key, spec.cached), [sourceName], [storeName]);
    return new KTable<NonNullable<K>, NonNullable<V>>(
      this.ctx,
      name,
      options.key as Serde<NonNullable<K>>,
      options.value as Serde<NonNullable<V>>,
      storeName,
      alwaysSendsOldValues,
    );
  }

  /**
   * A table of the latest value per key of every partition of `topic`, kept whole by every process
   * of the application in a global store (`name`, default `<topic>-STATE-STORE-<n>`); see
   * GlobalKTable for when it is read. A null value deletes its key; a null key is skipped. No
   * changelog topic: the topic itself is read back (from a local snapshot's positions when there is
   * one), so make it compacted.
   */
  globalTable<K, V>(topic: string, options: { key: Serde<K>; value: Serde<V>; name?: string }): GlobalKTable<NonNullable<K>, NonNullable<V>> {
    const storeName = this.ctx.name(options.name, `${topic}-STATE-STORE`);
    this.ctx.topology.addGlobalStore({ name: storeName, topic, keySerde: options.key as Serde<unknown>, valueSerde: options.value as Serde<unknown> });
    return new GlobalKTable(storeName, options.key as Serde<NonNullable<K>>, options.value as Serde<NonNullable<V>>);
  }

  /** Adds a key-value store that processors name in `process(..., { stores })` (Kafka Streams' `addStateStore`). */
  addStateStore<K, V>(options: KeyValueStoreOptions<K, V>): void {
    this.ctx.topology.addStore({
      name: options.name,
      kind: 'keyValue',
      keySerde: options.key as Serde<unknown>,
      valueSerde: options.value as Serde<unknown>,
      logged: options.logged ?? true,
      cached: options.cached ?? false,
      changelogConfig: options.changelogConfig ?? {},
    });
  }

  build(): Topology {
    return this.ctx.topology.build();
  }
}
