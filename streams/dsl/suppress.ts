import type { Serde } from '../../sdk/serde/serde.ts';
import { suppressionBufferStoreSpec } from '../state/suppression-buffer.ts';
import type { Windowed } from '../state/windowed.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import { TopologyError } from '../topology/topology.ts';
import type { DslContext } from './dsl-context.ts';
import type { KTable } from './ktable.ts';
import { type SuppressPlan, suppressProcessor } from './suppress-processor.ts';
import { BufferFullPolicy, type SuppressedConfig } from './suppressed.ts';

/** Serdes for the suppression buffer when the table has none (its value type changed since its last serde). */
export interface SuppressOptions<K, V> {
  key?: Serde<K>;
  value?: Serde<V>;
}

/**
 * Adds a suppression of `table` to the topology: its buffer store (`<name>-store`, named after the
 * operator as in Kafka Streams) and the processor. Returns the operator's node and the serdes of
 * the suppressed table.
 */
export function suppressTable<K, V>(
  ctx: DslContext,
  table: Pick<KTable<K, V>, 'nodeName' | 'keySerde' | 'valueSerde' | 'windowGraceMs'>,
  suppressed: SuppressedConfig,
  options: SuppressOptions<K, V> | undefined,
): { name: string; keySerde: Serde<K>; valueSerde: Serde<V> } {
  const keySerde = options?.key ?? table.keySerde;
  const valueSerde = options?.value ?? table.valueSerde;
  if (keySerde === undefined || valueSerde === undefined) {
    throw new TopologyError(`suppress() serializes the table's keys and values into its buffer, and the table has no ${keySerde === undefined ? 'key' : 'value'} serde; pass { key, value }`);
  }
  const name = ctx.name(suppressed.name, 'KTABLE-SUPPRESS');
  const storeName = suppressed.name === undefined ? ctx.nextName('KTABLE-SUPPRESS-STATE-STORE') : `${suppressed.name}-store`;
  const { settings, whenFull } = suppressed.bufferConfig;
  if (suppressed.kind === 'untilWindowCloses' && whenFull !== BufferFullPolicy.shutDown) {
    throw new TopologyError('suppress(untilWindowCloses) takes a strict buffer config (BufferConfig.unbounded() or ....shutDownWhenFull()): emitting early would break its one final result per window');
  }
  let plan: SuppressPlan<K>;
  if (suppressed.kind === 'untilWindowCloses') {
    const graceMs = table.windowGraceMs;
    if (graceMs === undefined) {
      throw new TopologyError(`suppress(untilWindowCloses) needs a windowed table, built by windowedBy(...).count/reduce/aggregate (and table operators after it); "${table.nodeName}" is not one`);
    }
    plan = { nodeName: name, storeName, keySerde, bufferTimeOf: (key) => (key as Windowed<unknown>).window.endMs, suppressDurationMs: graceMs, dropsDeletes: true, maxRecords: settings.maxRecords, maxBytes: settings.maxBytes, whenFull };
  } else {
    plan = { nodeName: name, storeName, keySerde, bufferTimeOf: (_key, timestampMs) => timestampMs, suppressDurationMs: suppressed.timeToWaitMs, dropsDeletes: false, maxRecords: settings.maxRecords, maxBytes: settings.maxBytes, whenFull };
  }
  ctx.topology.addStore(suppressionBufferStoreSpec(storeName, settings.logged, settings.changelogConfig));
  ctx.topology.addProcessor(name, suppressProcessor(plan, valueSerde) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [table.nodeName], [storeName]);
  return { name, keySerde, valueSerde };
}
