import { murmur2 } from '../../sdk/client/producer/partitioner.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { Windowed } from '../state/windowed.ts';
import type { StreamRecord } from '../topology/stream-record.ts';

/**
 * The default partitioner of a sink writing time- or session-windowed keys (Kafka Streams'
 * WindowedStreamPartitioner): murmur2 of the inner key's bytes, not of the whole windowed key, so
 * every window of a key lands on the partition the key itself would, as a Kafka Streams
 * application writing the same topic places it.
 */
export function windowedPartitioner<K>(serde: { readonly inner: Serde<K> }): (record: StreamRecord<Windowed<K> | null, unknown>, partitions: number) => number | undefined {
  return (record, partitions) => (record.key === null || record.key === undefined ? undefined : (murmur2(serde.inner.serialize(record.key.key)) & 0x7fffffff) % partitions);
}
