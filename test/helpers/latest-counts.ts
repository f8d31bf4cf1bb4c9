import { Consumer, longSerde, stringSerde, type Transport } from '../../sdk/mod.ts';

/**
 * Reads a topic of string keys and long counts (read_committed) from `from` (an offset per partition,
 * partitions 0..n-1) until every expected key's latest value since then is its expected one; returns
 * the latest values read. Waits on records, never on the clock.
 */
export async function awaitLatestCounts(transport: Transport, topic: string, from: readonly number[], expected: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: longSerde, autoOffsetReset: 'earliest' });
  consumer.assign(from.map((offset, partition) => ({ topic, partition, offset })));
  const latest = new Map<string, number>();
  try {
    for await (const record of consumer) {
      latest.set(record.key!, record.value!);
      if ([...expected].every(([key, count]) => latest.get(key) === count)) break;
    }
  } finally {
    await consumer.close();
  }
  return latest;
}
