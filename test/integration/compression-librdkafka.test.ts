import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { interopValues, readOverHttp, readWithSdk, storedCompressions, storedRecordsPrefix } from '../helpers/compression-interop.ts';
import { librdkafkaVersion, missingLibrdkafkaTools, PYTHON, run, SKIP_LIBRDKAFKA } from '../helpers/librdkafka-tools.ts';
import type { KafkaFrameProxy } from '../helpers/kafka-frame-proxy.ts';
import { startProduceV0Proxy } from '../helpers/produce-v0-proxy.ts';

const CODECS = [
  ['gzip', 1],
  ['snappy', 2],
  ['lz4', 3],
  ['zstd', 4],
] as const;

/**
 * How librdkafka 2.0.2 frames each codec, as stored: gzip's member header; snappy as one raw block
 * (a uvarint length first; no snappy-java header, unlike the Java client); lz4 with the same frame
 * header as the Java client and Rill (FLG 0x60, BD 0x40, HC 0x82); zstd as a frame with no content
 * size (descriptor 0x00), as Debian links libzstd dynamically.
 */
const FRAMING: Record<'gzip' | 'lz4' | 'zstd', number[]> = {
  gzip: [0x1f, 0x8b, 0x08],
  lz4: [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82],
  zstd: [0x28, 0xb5, 0x2f, 0xfd, 0x00],
};
const SNAPPY_JAVA_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];

const PRODUCE_PY = `
import sys
from confluent_kafka import Producer
bootstrap, topic, codec = sys.argv[1:4]
p = Producer({'bootstrap.servers': bootstrap, 'compression.type': codec, 'linger.ms': 50, 'acks': 'all'})
for i, line in enumerate(sys.stdin.read().splitlines()):
    p.produce(topic, key=f'k{i}', value=line)
if p.flush(15) != 0:
    sys.exit('messages left unsent')
`;

const CONSUME_PY = `
import sys
from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'unused', 'enable.auto.commit': False})
c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
seen = 0
while seen < count:
    m = c.poll(10)
    if m is None:
        sys.exit(f'timed out after {seen} messages')
    if m.error():
        sys.exit(str(m.error()))
    print(f"{m.key().decode()}={m.value().decode()}")
    seen += 1
c.close()
`;

let proc: BrokerProcess;
let transport: TcpTransport;
/** librdkafka writes through it; see startProduceV0Proxy for why. */
let proxy: KafkaFrameProxy;

describe.skipIf(SKIP_LIBRDKAFKA)('compressed batches between librdkafka (kcat, confluent-kafka) and Rill', () => {
  beforeAll(async () => {
    const missing = missingLibrdkafkaTools();
    if (missing !== undefined) throw new Error(missing);
    proc = await startBrokerProcess();
    proxy = await startProduceV0Proxy(proc.port);
    transport = new TcpTransport({ bootstrapServers: [proc.bootstrap] });
    await new Admin(transport).createTopics(
      CODECS.flatMap(([name]) => ['kcat', 'python', 'rill'].map((from) => ({ name: `${from}-${name}`, numPartitions: 1 }))),
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await transport?.close();
    await proc?.dispose();
  });

  it('runs against librdkafka 2.x', async () => {
    expect(await librdkafkaVersion()).toMatch(/^2\./);
  });

  it("Rill's SDK consumer and HTTP API read what kcat writes with -z gzip, snappy, lz4 and zstd", async () => {
    for (const [name, attribute] of CODECS) {
      const topic = `kcat-${name}`;
      const values = interopValues(name, 40);
      await run('kcat', ['-P', '-b', proxy.bootstrap, '-t', topic, '-p', '0', '-z', name, '-X', 'linger.ms=50'], values.join('\n') + '\n');
      expect(new Set(storedCompressions(proc.dataDir, topic))).toEqual(new Set([attribute]));
      const prefix = storedRecordsPrefix(proc.dataDir, topic, 8);
      if (name === 'snappy') expect(prefix.slice(0, 8)).not.toEqual(SNAPPY_JAVA_MAGIC);
      else expect(prefix.slice(0, FRAMING[name].length)).toEqual(FRAMING[name]);
      expect((await readWithSdk(transport, topic, 40)).map((r) => r.value)).toEqual(values);
      expect((await readOverHttp(proc.httpUrl, topic, 100)).map((r) => r.value)).toEqual(values);
    }
  });

  it("Rill's SDK consumer and HTTP API read what confluent-kafka writes with compression.type gzip, snappy, lz4 and zstd", async () => {
    for (const [name, attribute] of CODECS) {
      const topic = `python-${name}`;
      const values = interopValues(name, 40);
      await run(PYTHON, ['-c', PRODUCE_PY, proxy.bootstrap, topic, name], values.join('\n'));
      expect(new Set(storedCompressions(proc.dataDir, topic))).toEqual(new Set([attribute]));
      const expected = values.map((value, i) => ({ key: `k${i}`, value }));
      expect(await readWithSdk(transport, topic, 40)).toEqual(expected);
      expect(await readOverHttp(proc.httpUrl, topic, 100)).toEqual(expected);
    }
  });

  it("kcat and confluent-kafka read what Rill's SDK producer writes with every codec", async () => {
    for (const [name, attribute] of CODECS) {
      const topic = `rill-${name}`;
      const values = interopValues(name, 40);
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, compression: name, lingerMs: 5 });
      await Promise.all(values.map((value, i) => producer.send({ topic, partition: 0, key: `k${i}`, value })));
      await producer.close();
      expect(new Set(storedCompressions(proc.dataDir, topic))).toEqual(new Set([attribute]));
      const expected = values.map((value, i) => `k${i}=${value}`);
      const kcat = await run('kcat', ['-C', '-b', proc.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\\n']);
      expect(kcat.split('\n').filter((l) => l !== '')).toEqual(expected);
      const python = await run(PYTHON, ['-c', CONSUME_PY, proc.bootstrap, topic, '40']);
      expect(python.split('\n').filter((l) => l !== '')).toEqual(expected);
    }
  });
});
