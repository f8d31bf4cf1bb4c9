import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type PeerDriver, type PeerSession, windowed } from './peer.ts';
import { freePort, hasExecutable, ServerProcess } from './server-process.ts';

/** Stream entries per XREAD when reading back. */
const READ_COUNT = 10_000;
/** XADDs per pipeline (one write to the socket, one event-loop pass and one fsync on the server). */
const PIPELINE = 512;

type XReadReply = [Buffer, [Buffer, Buffer[]][]][] | null;

/** Redis Streams via ioredis: XADD to one stream, XREAD back; AOF with appendfsync always. */
export function redisDriver(options: { window: number }): PeerDriver {
  return {
    name: 'Redis Streams',
    key: 'redis',
    durability: 'appendonly yes + appendfsync always: the AOF is written and fsynced before replies go out (one fsync per event-loop pass)',
    shape: `one stream, ioredis, pipelines of ${PIPELINE} XADDs, up to ${options.window} in flight; XREAD COUNT ${READ_COUNT}`,
    unavailable: async () => ((await hasExecutable('redis-server')) ? undefined : 'redis-server not installed (apt-get install -y redis-server)'),
    open: async (): Promise<PeerSession> => {
      const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-redis-'));
      const port = await freePort();
      let server: ServerProcess;
      try {
        server = await ServerProcess.start({
          name: 'redis-server',
          command: 'redis-server',
          args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'],
          ready: /Ready to accept connections/,
        });
      } catch (error) {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      }
      const connect = (): Redis => new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1 });
      const writer = connect();
      const reader = connect();
      const readAll = async (client: Redis, stream: string, block: boolean, onBatch: (entries: [Buffer, Buffer[]][]) => boolean): Promise<void> => {
        let lastId = '0-0';
        for (;;) {
          const reply = (await (block
            ? client.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', 1_000, 'STREAMS', stream, lastId)
            : client.xreadBuffer('COUNT', READ_COUNT, 'STREAMS', stream, lastId))) as XReadReply;
          const entries = reply?.[0]?.[1];
          if (entries === undefined || entries.length === 0) {
            if (block) {
              if (!onBatch([])) return;
              continue;
            }
            return;
          }
          lastId = entries[entries.length - 1]![0].toString();
          if (!onBatch(entries)) return;
        }
      };
      return {
        async produce(stream, count, value) {
          const payload = Buffer.from(value);
          await windowed(Math.ceil(count / PIPELINE), Math.ceil(options.window / PIPELINE), 1, (i) => {
            const pipeline = writer.pipeline();
            const n = Math.min(PIPELINE, count - i * PIPELINE);
            for (let k = 0; k < n; k++) pipeline.xadd(stream, '*', 'v', payload);
            return pipeline.exec().then((results) => {
              for (const [error] of results ?? []) if (error !== null) throw error;
            });
          });
        },
        async consume(stream, count) {
          let seen = 0;
          let bytes = 0;
          await readAll(reader, stream, false, (entries) => {
            for (const [, fields] of entries) bytes += fields[1]!.length;
            seen += entries.length;
            return seen < count;
          });
          return bytes;
        },
        async openLatency(stream, onValue) {
          const subscriber = connect();
          let open = true;
          const reading = readAll(subscriber, stream, true, (entries) => {
            for (const [, fields] of entries) onValue(fields[1]!);
            return open;
          });
          return {
            send: async (value) => {
              await writer.xadd(stream, '*', 'v', Buffer.from(value.buffer, value.byteOffset, value.byteLength));
            },
            close: async () => {
              open = false;
              await reading;
              subscriber.disconnect();
            },
          };
        },
        async close() {
          writer.disconnect();
          reader.disconnect();
          await server.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}
