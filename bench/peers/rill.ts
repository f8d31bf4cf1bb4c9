import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, type CompressionName, Consumer, Producer, TcpTransport } from '../../sdk/mod.ts';
import { type PeerDriver, type PeerSession, windowed } from './peer.ts';
import { startRillBroker } from './rill-broker-process.ts';

export interface RillOptions {
  partitions: number;
  /** Producer linger for the throughput run (the latency run always uses 0). */
  lingerMs: number;
  batchSizeBytes: number;
  /** Records in flight in the throughput run. */
  window: number;
  /** Extra Node flags for the broker process, e.g. --cpu-prof. */
  brokerNodeArgs: readonly string[];
  /** The producer's batch codec in the throughput run (default none). */
  compression?: CompressionName;
  /**
   * Payloads for the throughput run, used in turn instead of the one `produce` is given (which
   * every codec would compress to almost nothing); each must be as long as that one.
   */
  valuePool?: readonly Uint8Array[];
}

/** Rill: the SDK client over TCP against the broker CLI as a separate Node process. */
export function rillDriver(options: RillOptions): PeerDriver {
  return {
    name: 'Rill',
    key: 'rill',
    durability: 'acks=all: the broker fsyncs the log before it answers the produce request (idempotent producer)',
    shape: `${options.partitions} partition(s), rill SDK Producer (linger ${options.lingerMs} ms, ${options.batchSizeBytes / 1024} KiB batches${options.compression === undefined ? '' : `, ${options.compression}`}) / assign-mode Consumer, read_committed`,
    unavailable: async () => undefined,
    open: async (): Promise<PeerSession> => {
      const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-client-'));
      let started: Awaited<ReturnType<typeof startRillBroker>>;
      try {
        started = await startRillBroker(dataDir, options.brokerNodeArgs);
      } catch (error) {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      }
      const { server } = started;
      const bootstrapServers = [started.bootstrap];
      // Separate connections for producing and consuming: a consumer's long-poll fetch must not
      // hold up produce answers queued behind it on the same connection.
      const producerTransport = new TcpTransport({ bootstrapServers, clientId: 'bench-producer' });
      const consumerTransport = new TcpTransport({ bootstrapServers, clientId: 'bench-consumer' });
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
            await windowed(calls, Math.max(1, Math.floor(options.window / chunk)), 1, (i) =>
              producer.sendBatch(i === calls - 1 && count % chunk !== 0 ? records.slice(0, count % chunk) : records),
            );
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
        async close() {
          await Promise.allSettled([producerTransport.close(), consumerTransport.close()]);
          await server.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}
