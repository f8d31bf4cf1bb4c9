import type { Serde } from '../../sdk/serde/serde.ts';
import { TopologyBuilder } from '../topology/topology-builder.ts';
import type { Topology } from '../topology/topology.ts';
import { DslContext, defaultBytesSerde } from './dsl-context.ts';
import { KStream, type Named } from './kstream.ts';

/** How a source reads its topic: serdes for keys and values (raw bytes, null allowed, when absent). */
export interface ConsumedOptions<K, V> extends Named {
  key?: Serde<K>;
  value?: Serde<V>;
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

  build(): Topology {
    return this.ctx.topology.build();
  }
}
