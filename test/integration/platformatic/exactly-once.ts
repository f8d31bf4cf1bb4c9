/**
 * Run under Bun or Deno (platformatic needs Node >= 22): exercises @platformatic/kafka's idempotent
 * producer and transaction API against a broker and prints one JSON line saying what the client saw.
 * The test that launches it checks the broker's side (what a read_committed reader gets, group offsets).
 *
 *   bun test/integration/platformatic/exactly-once.ts idempotent <host:port> <topic> <sends>
 *   bun test/integration/platformatic/exactly-once.ts transactions <host:port> <topicA> <topicB>
 *   bun test/integration/platformatic/exactly-once.ts consume-transform-produce <host:port> <in> <out> <group> <count>
 *   bun test/integration/platformatic/exactly-once.ts fence <host:port> <topic>
 */
import { Consumer, type Message, MessagesStreamFallbackModes, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

const [scenario, bootstrap, ...args] = process.argv.slice(2);

function producer(clientId: string, transactionalId?: string): Producer<string, string, string, string> {
  return new Producer({
    clientId,
    bootstrapBrokers: [bootstrap!],
    serializers: stringSerializers,
    idempotent: true,
    ...(transactionalId === undefined ? {} : { transactionalId }),
    retryDelay: 20,
  });
}

function describeError(error: unknown): string {
  const e = error as Error & { errors?: unknown[]; apiId?: string };
  const inner = (e.errors ?? []).map(describeError).join('; ');
  return `${e.apiId ?? e.name}: ${e.message}${inner === '' ? '' : ` [${inner}]`}`;
}

/** Numbered records sent in groups of five, alternating partitions; the proxy in front loses some responses. */
async function idempotent(topic: string, sends: number): Promise<unknown> {
  const p = producer('platformatic-idempotent');
  try {
    const sent: string[] = [];
    for (let i = 0; i < sends; i++) {
      const messages = Array.from({ length: 5 }, (_, j) => ({ topic, partition: i % 2, value: `m-${i}-${j}` }));
      await p.send({ messages });
      sent.push(...messages.map((m) => m.value));
    }
    return { sent, producerId: String(p.producerId), producerEpoch: p.producerEpoch };
  } finally {
    await p.close();
  }
}

/** A committed transaction over two topics and three partitions, an aborted one, and a committed one after it. */
async function transactions(topicA: string, topicB: string): Promise<unknown> {
  const p = producer('platformatic-txn', 'platformatic-tx-1');
  try {
    const committed = await p.beginTransaction();
    await committed.send({ messages: [{ topic: topicA, partition: 0, value: 'c-a0' }, { topic: topicA, partition: 1, value: 'c-a1' }] });
    await committed.send({ messages: [{ topic: topicB, partition: 0, value: 'c-b0' }] });
    // The test reads the partitions while this line is pending: nothing committed yet.
    console.log(JSON.stringify({ phase: 'sent-before-commit' }));
    await waitForStdinLine();
    await committed.commit();

    const aborted = await p.beginTransaction();
    await aborted.send({ messages: [{ topic: topicA, partition: 0, value: 'x-a0' }, { topic: topicA, partition: 1, value: 'x-a1' }] });
    await aborted.send({ messages: [{ topic: topicB, partition: 0, value: 'x-b0' }] });
    await aborted.abort();

    const last = await p.beginTransaction();
    await last.send({ messages: [{ topic: topicA, partition: 0, value: 'c2-a0' }] });
    await last.commit();
    return { producerId: String(p.producerId), producerEpoch: p.producerEpoch };
  } finally {
    await p.close();
  }
}

/**
 * Reads `count` input records and, per record, writes `out-<value>` and the record's offset in one
 * transaction. The first transaction is aborted and the consumer closed, so a second consumer of the
 * group must start where the group's committed offsets are: at the beginning, the aborted offset not counted.
 */
async function consumeTransformProduce(input: string, output: string, groupId: string, count: number): Promise<unknown> {
  const p = producer('platformatic-ctp', 'platformatic-ctp');
  const consumer = (): Consumer<string, string, string, string> =>
    new Consumer({
      clientId: 'platformatic-ctp-consumer',
      groupId,
      bootstrapBrokers: [bootstrap!],
      deserializers: stringDeserializers,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTime: 200,
    });
  const transform = async (c: Consumer<string, string, string, string>, message: Message<string, string, string, string>, commit: boolean) => {
    const txn = await p.beginTransaction();
    await txn.send({ messages: [{ topic: output, value: `${commit ? 'out' : 'aborted'}-${message.value}` }] });
    await txn.addConsumer(c);
    await txn.addOffset(message);
    if (commit) await txn.commit();
    else await txn.abort();
  };
  try {
    const first = consumer();
    let abortedAt: { partition: number; offset: string } | undefined;
    try {
      const stream = await first.consume({ topics: [input], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST, autocommit: false });
      for await (const message of stream) {
        await transform(first, message, false);
        abortedAt = { partition: message.partition, offset: String(message.offset) };
        break;
      }
      await stream.close();
    } finally {
      await first.close(true);
    }

    const second = consumer();
    const firstOffsets: Record<number, string> = {};
    const processed: string[] = [];
    try {
      const stream = await second.consume({ topics: [input], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST, autocommit: false });
      for await (const message of stream) {
        firstOffsets[message.partition] ??= String(message.offset);
        await transform(second, message, true);
        processed.push(message.value);
        if (processed.length === count) break;
      }
      await stream.close();
    } finally {
      await second.close(true);
    }
    return { abortedAt, firstOffsets, processed };
  } finally {
    await p.close();
  }
}

/**
 * A second producer with the same transactional id fences the first, whose open transaction's commit must fail.
 * platformatic 2.12.1 sends InitProducerId v3+ with producerId 0 and epoch 0 unless told otherwise, where
 * Kafka's "no producer yet" is -1/-1; Kafka (and Rill) then answer PRODUCER_FENCED for a transactional id
 * whose producer id is not 0. An idempotent producer takes producer id 0 first, so the transactional id
 * gets another one and the default call shows that; the second producer then passes -1/-1 explicitly.
 */
async function fence(topic: string): Promise<unknown> {
  const warmup = producer('platformatic-warmup');
  const first = producer('platformatic-zombie', 'platformatic-fence');
  const second = producer('platformatic-survivor', 'platformatic-fence');
  try {
    await warmup.send({ messages: [{ topic, partition: 0, value: 'plain' }] });
    const open = await first.beginTransaction();
    await open.send({ messages: [{ topic, partition: 0, value: 'zombie' }] });
    const firstEpoch = first.producerEpoch;

    let defaultBegin = 'began';
    await second.beginTransaction().catch((error: unknown) => (defaultBegin = describeError(error)));
    // The failed begin leaves its transaction object on the producer; cancel drops it client-side.
    await second.transaction?.cancel();
    const txn = await second.beginTransaction({ producerId: -1n, producerEpoch: -1 });
    const secondEpoch = second.producerEpoch;
    let zombieCommit = 'committed';
    await open.commit().catch((error: unknown) => (zombieCommit = describeError(error)));
    await txn.send({ messages: [{ topic, partition: 0, value: 'survivor' }] });
    await txn.commit();
    return {
      warmupId: String(warmup.producerId),
      defaultBegin,
      zombieCommit,
      firstId: String(first.producerId ?? 'none'),
      firstEpoch,
      secondId: String(second.producerId),
      secondEpoch,
    };
  } finally {
    await warmup.close();
    await second.close();
    await first.close().catch(() => undefined);
  }
}

/** Resolves once the test writes a line to stdin: the test's signal that it has checked the intermediate state. */
function waitForStdinLine(): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: Uint8Array): void => {
      if (!new TextDecoder().decode(chunk).includes('\n')) return;
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve();
    };
    process.stdin.on('data', onData);
  });
}

async function run(): Promise<unknown> {
  switch (scenario) {
    case 'idempotent':
      return idempotent(args[0]!, Number(args[1]));
    case 'transactions':
      return transactions(args[0]!, args[1]!);
    case 'consume-transform-produce':
      return consumeTransformProduce(args[0]!, args[1]!, args[2]!, Number(args[3]));
    case 'fence':
      return fence(args[0]!);
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

try {
  console.log(JSON.stringify({ ok: true, result: await run() }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: describeError(error) }));
  process.exitCode = 1;
}
