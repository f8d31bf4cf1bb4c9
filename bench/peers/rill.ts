import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpTransport } from '../../sdk/mod.ts';
import type { PeerDriver, PeerSession } from './peer.ts';
import { startRillBroker } from './rill-broker-process.ts';
import { rillSession, type RillSessionOptions } from './rill-session.ts';

export interface RillOptions extends RillSessionOptions {
  /** Extra Node flags for the broker process, e.g. --cpu-prof. */
  brokerNodeArgs: readonly string[];
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
      const session = rillSession(producerTransport, consumerTransport, options);
      return {
        ...session,
        async close() {
          await Promise.allSettled([producerTransport.close(), consumerTransport.close()]);
          await server.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}
