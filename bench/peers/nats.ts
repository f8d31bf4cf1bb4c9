import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type PeerDriver, type PeerSession, windowed } from './peer.ts';
import { freePort, hasExecutable, ServerProcess } from './server-process.ts';

/** Messages the ordered consumer asks for per pull when reading back. */
const PULL_MESSAGES = 10_000;

/** `sync_interval` (fsync policy of the file store) arrived in nats-server 2.10. */
function supportsSyncInterval(): boolean {
  const version = /v(\d+)\.(\d+)/.exec(execFileSync('nats-server', ['--version'], { encoding: 'utf8' }));
  if (version === null) return false;
  const [major, minor] = [Number(version[1]), Number(version[2])];
  return major > 2 || (major === 2 && minor >= 10);
}

/** NATS JetStream: one file-storage stream, js.publish awaiting each PubAck, an ordered pull consumer to read. */
export function natsDriver(options: { window: number }): PeerDriver {
  let fsyncBeforeAck = false;
  const driver: PeerDriver = {
    name: 'NATS JetStream',
    key: 'nats',
    durability: '',
    shape: `one file-storage stream (1 replica), @nats-io/jetstream publish with up to ${options.window} PubAcks outstanding; ordered consumer pulling ${PULL_MESSAGES}`,
    unavailable: async () => ((await hasExecutable('nats-server')) ? undefined : 'nats-server not installed (apt-get install -y nats-server)'),
    open: async (): Promise<PeerSession> => {
      const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-nats-'));
      const port = await freePort();
      fsyncBeforeAck = supportsSyncInterval();
      const config = join(dataDir, 'nats.conf');
      writeFileSync(
        config,
        [
          `listen: 127.0.0.1:${port}`,
          `jetstream {`,
          `  store_dir: ${JSON.stringify(join(dataDir, 'store'))}`,
          ...(fsyncBeforeAck ? ['  sync_interval: always'] : []),
          `}`,
          '',
        ].join('\n'),
      );
      let server: ServerProcess;
      try {
        server = await ServerProcess.start({ name: 'nats-server', command: 'nats-server', args: ['-c', config], ready: /Server is ready/ });
      } catch (error) {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      }
      (driver as { durability: string }).durability = fsyncBeforeAck
        ? 'file storage with sync_interval: always: fsync before the PubAck'
        : `file storage; this nats-server (${execFileSync('nats-server', ['--version'], { encoding: 'utf8' }).trim()}) has no sync_interval: it acks after write() and fsyncs in the background, not before the PubAck`;
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const addStream = (name: string) => jsm.streams.add({ name, subjects: [name], storage: StorageType.File, num_replicas: 1 });
      return {
        async produce(stream, count, value) {
          await addStream(stream);
          await windowed(count, options.window, 1024, () => js.publish(stream, value));
        },
        async consume(stream, count) {
          const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
          const messages = await consumer.consume({ max_messages: PULL_MESSAGES });
          let seen = 0;
          let bytes = 0;
          for await (const m of messages) {
            bytes += m.data.length;
            if (++seen >= count) break;
          }
          await messages.close();
          await consumer.delete();
          return bytes;
        },
        async openLatency(stream, onValue) {
          await addStream(stream);
          const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
          const messages = await consumer.consume({ max_messages: 1_000 });
          // An empty message through first: the pull request is at the server before timing starts.
          let primed: () => void = () => {};
          const ready = new Promise<void>((resolve) => (primed = resolve));
          const reading = (async () => {
            for await (const m of messages) {
              if (m.data.length === 0) primed();
              else onValue(m.data);
            }
          })();
          await js.publish(stream, new Uint8Array(0));
          await ready;
          return {
            send: async (value) => {
              await js.publish(stream, value);
            },
            close: async () => {
              await messages.close();
              await reading;
              await consumer.delete();
            },
          };
        },
        async close() {
          await nc.close().catch(() => undefined);
          await server.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
  return driver;
}
