import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '../../broker/broker.ts';
import { IsolationLevel } from '../../broker/fetch/fetch-types.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { MqttListener, type MqttListenerOptions } from '../../broker/mqtt/mqtt-listener.ts';
import type { Record } from '../../sdk/record/record.ts';
import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';

/** A broker in a temporary directory with its Kafka and MQTT listeners on free ports of 127.0.0.1. */
export class MqttTestBroker {
  private constructor(
    /** What the listener reported through onError (connections closed on an unexpected error). */
    readonly errors: string[],
    readonly dataDir: string,
    readonly broker: Broker,
    readonly kafka: KafkaListener,
    readonly mqtt: MqttListener,
  ) {}

  static async open(options: Partial<MqttListenerOptions> = {}, brokerOptions: BrokerOptions = {}, dataDir = mkdtempSync(join(tmpdir(), 'rill-mqtt-'))): Promise<MqttTestBroker> {
    const broker = await Broker.open({ ...brokerOptions, config: { dataDir, ...brokerOptions.config } });
    const kafka = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
    const errors: string[] = [];
    const mqtt = await MqttListener.start(broker, { host: '127.0.0.1', port: 0, onError: (error) => errors.push(String(error)), ...options });
    return new MqttTestBroker(errors, dataDir, broker, kafka, mqtt);
  }

  get url(): string {
    return `${this.mqtt.tls === undefined ? 'mqtt' : 'mqtts'}://127.0.0.1:${this.mqtt.port}`;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.kafka.port}`;
  }

  /** Every committed record of a topic's partitions, in partition then offset order. */
  async records(topic: string): Promise<(Record & { partition: number })[]> {
    if (!this.broker.hasTopic(topic)) return [];
    const out: (Record & { partition: number })[] = [];
    const { partitions } = this.broker.topicLayout(topic);
    for (let partition = 0; partition < partitions; partition++) {
      let offset = 0;
      for (;;) {
        const [result] = await this.broker.fetch({ partitions: [{ topic, partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: IsolationLevel.readCommitted });
        let read = false;
        for (const batch of readRecordBatches(result!.records)) {
          read = true;
          if (!batch.isControl) for (const record of batch.records()) out.push({ ...record, partition });
          offset = batch.lastOffset + 1;
        }
        if (!read) break;
      }
    }
    return out;
  }

  async close(options: { keepData?: boolean } = {}): Promise<void> {
    await this.mqtt.close();
    await this.kafka.close();
    await this.broker.close();
    if (options.keepData !== true) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
