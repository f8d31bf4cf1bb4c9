import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { readAllValues } from '../helpers/read-partition.ts';

const OUTPUT = 'txn-kill-out';
const INPUT = 'txn-kill-in';
const GROUP = 'txn-kill-group';

/**
 * The broker is SIGKILLed exactly after it answered TxnOffsetCommit and before the client's
 * EndTxn: the transaction's input offsets must survive with it, so the committed transaction
 * carries both its outputs and its consumed positions (else every input would be processed again).
 */
describe('a broker killed between TxnOffsetCommit and EndTxn', () => {
  const brokers: BrokerProcess[] = [];
  afterEach(async () => {
    for (const b of brokers.splice(0).reverse()) await b.dispose();
  });

  it('commits the transaction with its offsets when the client retries EndTxn on the restarted broker', async () => {
    const first = await startBrokerProcess();
    brokers.push(first);
    const transport = new TcpTransport({ bootstrapServers: [first.bootstrap] });
    try {
      const admin = new Admin(transport);
      await admin.createTopics([
        { name: INPUT, numPartitions: 2 },
        { name: OUTPUT, numPartitions: 1 },
      ]);
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, transactionalId: 'txn-kill' });
      await producer.beginTransaction();
      await producer.sendBatch(['a', 'b', 'c'].map((value) => ({ topic: OUTPUT, partition: 0, key: value, value })));
      await producer.sendOffsets(
        [
          { topic: INPUT, partition: 0, offset: 3 },
          { topic: INPUT, partition: 1, offset: 11 },
        ],
        { groupId: GROUP, generationId: -1, memberId: '', groupInstanceId: null },
      );

      await first.stop('SIGKILL');
      const second = await startBrokerProcess({ dataDir: first.dataDir, port: first.port, httpPort: first.httpPort });
      brokers.push(second);

      await producer.commitTransaction();
      const lag = await admin.groupLag(GROUP, [INPUT]);
      expect(lag.map((p) => [p.partition, p.committedOffset]).sort()).toEqual([
        [0, 3],
        [1, 11],
      ]);
      const raw = await RawKafkaClient.connect(second.port);
      try {
        expect(await readAllValues(raw, OUTPUT, 0, 1)).toEqual(['a', 'b', 'c']);
      } finally {
        raw.close();
      }
      await producer.close();
    } finally {
      await transport.close();
    }
  });
});
