/**
 * Transaction check-back instead of an outbox: a producer writes its local database and the log
 * in one Kafka transaction plus one local commit, and whatever crash comes between them, the
 * coordinator asks a checker which side won. Four roles, one per process:
 *
 *   broker  <dataDir> <port> [checkIntervalMs] [checkMaxAttempts]
 *       a broker on 127.0.0.1:<port> that checks timed-out transactions quickly
 *   produce <bootstrap> <db> <transactionalId> <topic> <orderId> <stopAt> [timeoutMs] [webhookUrl]
 *       registers a checker (the topic, or the webhook), writes 3 records of the order in a
 *       transaction, commits locally, commits the transaction and marks the order published;
 *       with stopAt `before-local-commit` or `after-local-commit` it prints `stopped` there and
 *       waits to be killed
 *   check   <bootstrap> <db> <transactionalId> [unknown]
 *       a standing checker answering from the database (or `unknown` every time) until SIGTERM
 *   successor <bootstrap> <db> <transactionalId>
 *       the restarted producer: starts its checker, then initializes (its InitProducerId waits
 *       for its predecessor's transaction to be resolved by the check) and prints its identity
 *
 *   node dist/examples/txn-check-back/main.js ...  |  bun examples/txn-check-back/main.ts ...  |  deno run -A examples/txn-check-back/main.ts ...
 */
import { Broker } from '../../broker/mod.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { Producer, stringSerde, TcpTransport, TransactionChecker } from '../../sdk/mod.ts';
import { appendDbLine, decideFromDb } from './local-db.ts';

const [role, ...args] = process.argv.slice(2);

function waitForever(): Promise<never> {
  return new Promise(() => setInterval(() => undefined, 1 << 30));
}

function onSigterm(stop: () => Promise<void>): void {
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
}

async function runBroker(dataDir: string, port: string, checkIntervalMs = '300', checkMaxAttempts = '5'): Promise<void> {
  const broker = await Broker.open({
    config: { dataDir },
    transactions: { abortTimedOutIntervalMs: 50, checkIntervalMs: Number(checkIntervalMs), checkMaxAttempts: Number(checkMaxAttempts) },
  });
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: Number(port), limits: { shutdownGraceMs: 0 } });
  onSigterm(async () => {
    await listener.close();
    await broker.close();
  });
  console.log(`broker listening on ${listener.port}`);
  await waitForever();
}

async function produce(bootstrap: string, db: string, transactionalId: string, topic: string, orderId: string, stopAt: string, timeoutMs = '60000', webhookUrl?: string): Promise<void> {
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  await TransactionChecker.register(transport, transactionalId, webhookUrl === undefined ? { kind: 'topic' } : { kind: 'webhook', url: webhookUrl, timeoutMs: 2_000 });
  const producer = new Producer(transport, { transactionalId, transactionTimeoutMs: Number(timeoutMs), keySerde: stringSerde, valueSerde: stringSerde });
  await producer.beginTransaction();
  for (let i = 0; i < 3; i++) await producer.send({ topic, key: orderId, value: `${orderId}/${i}` });
  await producer.flush();
  const { producerId, producerEpoch } = producer.producerIdentity;
  console.log(`flushed ${producerId} ${producerEpoch}`);
  if (stopAt === 'before-local-commit') {
    console.log('stopped');
    await waitForever();
  }
  appendDbLine(db, { orderId, producerId, producerEpoch, state: 'committed' });
  if (stopAt === 'after-local-commit') {
    console.log('stopped');
    await waitForever();
  }
  await producer.commitTransaction();
  appendDbLine(db, { orderId, producerId, producerEpoch, state: 'published' });
  await producer.close();
  await transport.close();
  console.log('done');
}

function startChecker(transport: TcpTransport, db: string, transactionalId: string, alwaysUnknown: boolean): Promise<TransactionChecker> {
  const checker = new TransactionChecker(transport, {
    transactionalIds: [transactionalId],
    check: (check) => {
      const answer = alwaysUnknown ? 'unknown' : decideFromDb(db, check.producerId, check.producerEpoch);
      console.log(`answered ${answer} ${check.producerId} ${check.producerEpoch} attempt ${check.attempt}`);
      return answer;
    },
  });
  return checker.start().then(() => checker);
}

async function check(bootstrap: string, db: string, transactionalId: string, mode?: string): Promise<void> {
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  const checker = await startChecker(transport, db, transactionalId, mode === 'unknown');
  onSigterm(async () => {
    await checker.close();
    await transport.close();
  });
  console.log('checking');
  await waitForever();
}

async function successor(bootstrap: string, db: string, transactionalId: string): Promise<void> {
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  const checker = await startChecker(transport, db, transactionalId, false);
  const producer = new Producer(transport, { transactionalId });
  // The first transaction initializes the producer: InitProducerId, which the coordinator answers
  // once the check of the predecessor's open transaction is done.
  await producer.beginTransaction();
  await producer.abortTransaction();
  const { producerId, producerEpoch } = producer.producerIdentity;
  console.log(`initialized ${producerId} ${producerEpoch}`);
  await producer.close();
  await checker.close();
  await transport.close();
}

const usage = 'usage: main.ts broker|produce|check|successor ... (see the comment at the top)';
switch (role) {
  case 'broker':
    await runBroker(args[0]!, args[1]!, args[2], args[3]);
    break;
  case 'produce':
    await produce(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6], args[7]);
    break;
  case 'check':
    await check(args[0]!, args[1]!, args[2]!, args[3]);
    break;
  case 'successor':
    await successor(args[0]!, args[1]!, args[2]!);
    break;
  default:
    console.error(usage);
    process.exit(2);
}
