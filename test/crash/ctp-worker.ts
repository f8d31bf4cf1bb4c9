/**
 * A consume-transform-produce worker for the SDK exactly-once crash test, run as a child process
 * under Bun (which runs TypeScript directly; the Node build's dist/ excludes test/).
 *
 *   bun test/crash/ctp-worker.ts <bootstrap> <worker> <inputTopic> <outputTopic> <groupId>
 *
 * It is a static member (`ctp-<worker>`) of the group and owns the transactional id
 * `ctp-tx-<worker>`, so a restart replaces its killed predecessor in the group without a rebalance
 * and InitProducerId fences it and aborts its open transaction. Each polled batch becomes one
 * transaction: the transformed records (`in-N` → `out-N`, same key) and the batch's next offset.
 *
 * stdout, one line per event, for the test to follow:
 *   assigned <partition>:<committed offset>,...   the group gave it partitions (offset -1: none)
 *   committed <count> <partition>:<offset>        a transaction committed the batch up to <offset>
 * Any error ends the process (exit code 1, the error on stderr); the test restarts it.
 */
import { Consumer, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';

const [bootstrap, worker, inputTopic, outputTopic, groupId] = process.argv.slice(2);
if (groupId === undefined) throw new Error('usage: ctp-worker.ts <bootstrap> <worker> <inputTopic> <outputTopic> <groupId>');

const transport = new TcpTransport({ bootstrapServers: [bootstrap!] });
const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, transactionalId: `ctp-tx-${worker}` });
const consumer = new Consumer(transport, {
  keySerde: stringSerde,
  valueSerde: stringSerde,
  groupId,
  groupInstanceId: `ctp-${worker}`,
  sessionTimeoutMs: 10_000,
  enableAutoCommit: false,
  autoOffsetReset: 'earliest',
  // Small fetches make many small transactions, so kills land at many different points.
  maxPartitionBytes: 16 * 1024,
});

async function run(): Promise<void> {
  // InitProducerId before the group hands out partitions: the predecessor's open transaction is
  // aborted (its pending offsets dropped) before this worker reads the committed offsets.
  await producer.beginTransaction();
  consumer.subscribe([inputTopic!], {
    async onPartitionsAssigned(partitions) {
      const committed = await consumer.committed(partitions);
      console.log(`assigned ${committed.map((c) => `${c.partition}:${c.offset}`).join(',')}`);
    },
  });
  let count = 0;
  for await (const batch of consumer.batches()) {
    // The generation the batch was handed out under: a rebalance since then fences the offsets
    // (ILLEGAL_GENERATION) instead of committing them for a partition another member now owns.
    const group = batch.groupMetadata!;
    const sends = batch.records.map((r) => producer.send({ topic: outputTopic!, key: r.key, value: r.value!.replace(/^in-/, 'out-') }));
    await Promise.all(sends);
    const next = batch.records[batch.records.length - 1]!.offset + 1;
    await producer.sendOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }], group);
    await producer.commitTransaction();
    console.log(`committed ${++count} ${batch.partition}:${next}`);
    await producer.beginTransaction();
  }
}

run().catch((error: unknown) => {
  // One line first (the test reports it), then the stack.
  console.error(`ctp-worker ${worker}: ${String(error)}${error instanceof Error && error.cause !== undefined ? ` (cause: ${String(error.cause)})` : ''}`);
  console.error(error instanceof Error ? error.stack : '');
  process.exit(1);
});
