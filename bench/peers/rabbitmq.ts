import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { type PeerDriver, type PeerSession } from './peer.ts';
import { freePort, hasExecutable, ServerProcess } from './server-process.ts';

/** Debian's real start script; /usr/sbin/rabbitmq-server would switch to the rabbitmq user and its fixed paths. */
const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
/** Unacknowledged deliveries a consumer may hold; acks go back with `multiple` every ACK_EVERY. */
const PREFETCH = 2_000;
const ACK_EVERY = 500;

/** RabbitMQ via amqplib: a durable queue, persistent messages on a confirm channel, a consumer with manual acks. */
export function rabbitmqDriver(options: { queueType: 'quorum' | 'classic'; window: number }): PeerDriver {
  return {
    name: 'RabbitMQ',
    key: 'rabbitmq',
    durability:
      options.queueType === 'quorum'
        ? 'durable quorum queue: the Raft log (WAL) is fsynced before the publisher confirm; persistent messages'
        : 'durable classic queue, persistent messages: the confirm goes out once the message is persisted to disk',
    shape: `one durable ${options.queueType} queue, amqplib confirm channel with up to ${options.window} confirms outstanding; consumer prefetch ${PREFETCH}, acks (multiple) every ${ACK_EVERY}`,
    unavailable: async () => ((await hasExecutable(RABBITMQ_SERVER)) ? undefined : 'rabbitmq-server not installed (apt-get install -y rabbitmq-server)'),
    open: async (): Promise<PeerSession> => {
      const server = await startRabbitmqServer();
      const stopAll = server.stop;
      // amqplib leaves Nagle's algorithm on unless asked; the other clients turn it off.
      const connection = await amqp.connect(server.url, { noDelay: true });
      const publishChannel = await connection.createConfirmChannel();
      const assertQueue = (name: string) => publishChannel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': options.queueType } });

      /** Publishes persistently: `confirmed` settles on the broker's confirm or nack; `flowing` is false once the client's buffer is full. */
      const publish = (queue: string, content: Buffer): { flowing: boolean; confirmed: Promise<void> } => {
        let flowing = true;
        const confirmed = new Promise<void>((resolve, reject) => {
          flowing = publishChannel.sendToQueue(queue, content, { persistent: true }, (error) => (error === null || error === undefined ? resolve() : reject(error)));
        });
        return { flowing, confirmed };
      };
      const drained = (): Promise<void> => new Promise((resolve) => publishChannel.once('drain', () => resolve()));

      return {
        async produce(queue, count, value) {
          await assertQueue(queue);
          const content = Buffer.from(value);
          const inFlight = new Set<Promise<void>>();
          let failure: unknown;
          for (let i = 0; i < count; i++) {
            const sent = publish(queue, content);
            const confirmed: Promise<void> = sent.confirmed.then(
              () => void inFlight.delete(confirmed),
              (error: unknown) => {
                failure ??= error;
                inFlight.delete(confirmed);
              },
            );
            inFlight.add(confirmed);
            if (inFlight.size >= options.window) await Promise.race(inFlight);
            else if (!sent.flowing) await drained();
            if (failure !== undefined) throw failure;
          }
          await Promise.all(inFlight);
          if (failure !== undefined) throw failure;
        },
        async consume(queue, count) {
          const channel = await connection.createChannel();
          await channel.prefetch(PREFETCH);
          let seen = 0;
          let bytes = 0;
          await new Promise<void>((resolve, reject) => {
            channel.on('error', reject);
            void channel.consume(
              queue,
              (message) => {
                if (message === null) return reject(new Error(`the consumer of ${queue} was cancelled`));
                bytes += message.content.length;
                seen++;
                if (seen % ACK_EVERY === 0 || seen === count) channel.ack(message, true);
                if (seen === count) resolve();
              },
              { noAck: false },
            );
          });
          await channel.close();
          return bytes;
        },
        async openLatency(queue, onValue) {
          await assertQueue(queue);
          const channel = await connection.createChannel();
          await channel.prefetch(PREFETCH);
          await channel.consume(
            queue,
            (message) => {
              if (message === null) return;
              onValue(message.content);
              channel.ack(message);
            },
            { noAck: false },
          );
          return {
            send: (value) => publish(queue, Buffer.from(value.buffer, value.byteOffset, value.byteLength)).confirmed,
            close: () => channel.close(),
          };
        },
        async close() {
          await connection.close().catch(() => undefined);
          await stopAll();
        },
      };
    },
  };
}

/**
 * Starts rabbitmq-server (and its own epmd) bound to 127.0.0.1 with its data in a temp dir;
 * `stop` stops both and removes the data.
 */
export async function startRabbitmqServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-rabbitmq-'));
  const [amqpPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dataDir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dataDir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${amqpPort}\n`);
  mkdirSync(join(dataDir, 'log'));
  const env = {
    // Erlang keeps its cookie in $HOME; the node's own epmd keeps it off the machine-wide one.
    HOME: dataDir,
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: `rillbench${process.pid}@localhost`,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dataDir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dataDir, 'enabled_plugins'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dataDir, 'plugins'),
    RABBITMQ_CONFIG_FILE: join(dataDir, 'rabbitmq.conf'),
  };
  const servers: ServerProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of servers.reverse()) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    servers.push(
      await ServerProcess.start({ name: 'epmd', command: 'epmd', args: ['-port', String(epmdPort), '-address', '127.0.0.1', '-d'], env, ready: /epmd running/ }),
    );
    servers.push(
      await ServerProcess.start({ name: 'rabbitmq-server', command: RABBITMQ_SERVER, args: [], env, cwd: dataDir, ready: /Server startup complete/, readyTimeoutMs: 60_000 }),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, stop: stopAll };
}
