import { Admin, type CompressionName, Consumer, Producer, type Transport } from '../../sdk/mod.ts';
import { type PeerSession, windowed } from './peer.ts';

export interface RillSessionOptions {
  partitions: number;
  /** Producer linger for the throughput run (the latency run always uses 0). */
  lingerMs: number;
  batchSizeBytes: number;
  /** Records in flight in the throughput run. */
  window: number;
  /** The producer's batch codec in the throughput run (default none). */
  compression?: CompressionName;
  /**
   * Payloads for the throughput run, used in turn instead of the one `produce` is given (which
   * every codec would compress to almost nothing); each must be as long as that one.
   */
  valuePool?: readonly Uint8Array[];
  /** Called with the records acknowledged (produce) or read (consume) so far, e.g. for a progress bar. */
  onProduced?: (records: number) => void;
  onConsumed?: (records: number) => void;
}

/**
 * The Rill client side of the benchmark over two transports to any broker speaking the Kafka
 * protocol: the throughput runs and the latency link of bench/client.ts, shared with `rill bench`.
 * Separate transports for producing and consuming: a consumer's long-poll fetch must not hold up
 * produce answers queued behind it on the same connection. `close` is the caller's (it owns the transports).
 */
export function rillSession(producerTransport: Transport, consumerTransport: Transport, options: RillSessionOptions): Omit<PeerSession, 'close'> {
  const admin = new Admin(producerTransport);
  const partitionsOf = (topic: string) => Array.from({ length: options.partitions }, (_, partition) => ({ topic, partition, offset: 0 }));
  return {
    async produce(stream, count, value) {
      await admin.createTopics([{ name: stream, numPartitions: options.partitions, replicationFactor: 1 }]);
      const producer = new Producer(producerTransport, {
        acks: 'all',
        lingerMs: options.lingerMs,
        batchSizeBytes: options.batchSizeBytes,
        compression: options.compression ?? 'none',
      });
      try {
        // sendBatch in chunks (one promise per call, like the peers' pipelines), up to
        // `window` records in flight.
        const chunk = Math.min(4096, options.window);
        const pool = options.valuePool;
        const records = Array.from({ length: chunk }, (_, i) => ({ topic: stream, value: pool === undefined ? value : pool[i % pool.length]! }));
        const calls = Math.ceil(count / chunk);
        let acknowledged = 0;
        await windowed(calls, Math.max(1, Math.floor(options.window / chunk)), 1, async (i) => {
          const batch = i === calls - 1 && count % chunk !== 0 ? records.slice(0, count % chunk) : records;
          await producer.sendBatch(batch);
          acknowledged += batch.length;
          options.onProduced?.(acknowledged);
        });
      } finally {
        await producer.close();
      }
    },
    async consume(stream, count) {
      const consumer = new Consumer(consumerTransport, { autoOffsetReset: 'earliest', maxPartitionBytes: 4 * 1024 * 1024 });
      consumer.assign(partitionsOf(stream));
      let seen = 0;
      let bytes = 0;
      try {
        for await (const batch of consumer.batches()) {
          seen += batch.records.length;
          for (const record of batch.records) bytes += record.value?.length ?? 0;
          options.onConsumed?.(seen);
          if (seen >= count) break;
        }
      } finally {
        await consumer.close();
      }
      return bytes;
    },
    async openLatency(stream, onValue) {
      await admin.createTopics([{ name: stream, numPartitions: options.partitions, replicationFactor: 1 }]);
      const consumer = new Consumer(consumerTransport, { autoOffsetReset: 'earliest', maxWaitMs: 500 });
      consumer.assign(partitionsOf(stream));
      const reading = (async () => {
        for await (const batch of consumer.batches()) for (const record of batch.records) onValue(record.value!);
      })();
      const producer = new Producer(producerTransport, { acks: 'all', lingerMs: 0 });
      // One record through first: the producer has its id and metadata, and the consumer is fetching.
      await producer.send({ topic: stream, value: new Uint8Array(0) });
      return {
        send: async (value) => {
          await producer.send({ topic: stream, value });
        },
        close: async () => {
          await producer.close();
          await consumer.close();
          await reading;
        },
      };
    },
  };
}
