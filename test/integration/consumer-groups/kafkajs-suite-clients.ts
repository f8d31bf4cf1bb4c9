import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Admin, Consumer, ConsumerConfig, logCreator, LogEntry, Producer, ProducerConfig } from 'kafkajs';
import { logLevel } from 'kafkajs';

/*
 * kafkajs's own consumer suite builds its producer, consumer and admin on one Cluster, so they share
 * its connections: group requests, produces and transaction requests on one socket, fetches on the
 * other. The public `Kafka` class gives every client its own, so these are the modules that suite
 * builds its clients from.
 */
const require = createRequire(import.meta.url);
type Cluster = object;
const KafkajsCluster = require('kafkajs/src/cluster') as new (options: object) => Cluster;
const createKafkajsConsumer = require('kafkajs/src/consumer') as (options: object) => Consumer;
const createKafkajsProducer = require('kafkajs/src/producer') as (options: object) => Producer;
const createKafkajsAdmin = require('kafkajs/src/admin') as (options: object) => Admin;
const { createLogger } = require('kafkajs/src/loggers') as { createLogger(options: { level: logLevel; logCreator: logCreator }): object };
const socketFactory = (require('kafkajs/src/network/socketFactory') as () => unknown)();

/** Client log lines kept per scenario run, for the report of a stalled one. */
const LOG_LINES_KEPT = 200;
/** How long a stalled scenario's clients get to disconnect before they are abandoned. */
export const DISCONNECT_BOUND_MS = 5_000;

export const randomId = (): string => `${randomBytes(6).toString('hex')}-${process.pid}`;

/** Counts events and resolves each waiter once the count reaches its target. */
export class Tally {
  count = 0;
  private waiters: { target: number; resolve: () => void }[] = [];

  add(n = 1): void {
    this.count += n;
    this.waiters = this.waiters.filter((w) => {
      if (this.count < w.target) return true;
      w.resolve();
      return false;
    });
  }

  reach(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }
}

/** Resolves on the consumer's next GROUP_JOIN, with its assignment; rejects if it crashes first. */
export function nextJoin(consumer: Consumer): Promise<Record<string, number[]>> {
  return new Promise((resolve, reject) => {
    const removeJoin = consumer.on(consumer.events.GROUP_JOIN, (event) => {
      removeJoin();
      removeCrash();
      resolve(event.payload.memberAssignment);
    });
    const removeCrash = consumer.on(consumer.events.CRASH, (event) => {
      removeJoin();
      removeCrash();
      reject(event.payload.error);
    });
  });
}

/** One scenario run's topic, group and clients; every client made here is disconnected afterwards. */
export class ScenarioContext {
  readonly topic = `churn-topic-${randomId()}`;
  readonly groupId = `churn-group-${randomId()}`;
  readonly log: string[] = [];
  private readonly clients: { disconnect(): Promise<void> }[] = [];

  constructor(readonly bootstrap: string) {}

  private logger(): object {
    return createLogger({
      level: logLevel.INFO,
      logCreator: () => (entry: LogEntry) => {
        this.log.push(`${entry.log.timestamp} ${entry.label} [${entry.namespace}] ${entry.log.message} ${JSON.stringify({ ...entry.log, timestamp: undefined, message: undefined, logger: undefined })}`);
        if (this.log.length > LOG_LINES_KEPT) this.log.shift();
      },
    });
  }

  cluster(): Cluster {
    return new KafkajsCluster({ socketFactory, brokers: [this.bootstrap], clientId: `churn-${randomId()}`, connectionTimeout: 3_000, requestTimeout: 30_000, logger: this.logger() });
  }

  /** kafkajs's suite settings: a 100 ms long poll, everything else the client's defaults. */
  consumer(cluster: Cluster, config: Partial<ConsumerConfig> = {}): Consumer {
    const consumer = createKafkajsConsumer({ cluster, groupId: this.groupId, maxWaitTimeInMs: 100, logger: this.logger(), ...config });
    this.clients.push(consumer);
    return consumer;
  }

  producer(cluster: Cluster, config: Partial<ProducerConfig> = {}): Producer {
    const producer = createKafkajsProducer({ cluster, logger: this.logger(), ...config });
    this.clients.push(producer);
    return producer;
  }

  admin(cluster: Cluster): Admin {
    const admin = createKafkajsAdmin({ cluster, logger: this.logger() });
    this.clients.push(admin);
    return admin;
  }

  /** Disconnects every client, in the suite's order (admin, consumers, producers), within a bound. */
  async disconnectAll(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DISCONNECT_BOUND_MS)));
    const all = (async () => {
      for (const client of this.clients) await client.disconnect().catch(() => undefined);
      return true as const;
    })();
    try {
      return await Promise.race([all, bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}
