import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import { IsolationLevel } from '../../broker/fetch/fetch-types.ts';
import { PacketType, type PublishPacket } from '../../broker/mqtt/mqtt-packet.ts';
import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { MqttRawClient } from '../helpers/mqtt-raw-client.ts';

/**
 * A QoS 2 publisher against `rill start --mqtt-port` whose broker is SIGKILLed mid-flow, again
 * and again: after each restart the client reconnects to its persistent session and retries what
 * it has not seen acknowledged (PUBLISH again with DUP for no PUBREC, PUBREL for no PUBCOMP), as
 * MQTT requires. Every message the client considers delivered (it got PUBREC) must be in the log
 * exactly once, and no message twice. 3 kills by default; RILL_CRASH_FULL=1 for 20.
 */
const FULL = process.env.RILL_CRASH_FULL === '1';
const KILLS = FULL ? 20 : 3;
const WINDOW = 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Outgoing {
  n: number;
  packetId: number;
  stage: 'sent' | 'received';
}

function publish(message: Outgoing, dup: boolean): PublishPacket {
  return { type: PacketType.PUBLISH, dup, qos: 2, retain: false, topic: 'crash/meter', packetId: message.packetId, properties: {}, payload: encoder.encode(`m-${message.n}`) };
}

async function startBroker(dataDir: string): Promise<{ proc: BrokerProcess; mqttPort: number }> {
  const proc = await startBrokerProcess({ dataDir, args: ['--mqtt-port', '0'] });
  const line = await proc.process.waitForLine(/mqtt listening on /);
  return { proc, mqttPort: Number(/:(\d+)/.exec(line.slice(line.indexOf('listening on')))![1]) };
}

it(`every QoS 2 message a client saw PUBREC for is in the log exactly once across ${KILLS} broker SIGKILLs`, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-mqtt-crash-'));
  const inFlight = new Map<number, Outgoing>();
  const delivered = new Set<number>();
  let next = 0;
  try {
    for (let cycle = 0; cycle <= KILLS; cycle++) {
      const { proc, mqttPort } = await startBroker(dataDir);
      const killAfter = cycle === KILLS ? Number.POSITIVE_INFINITY : 3 + Math.floor(Math.random() * 12);
      const target = cycle === KILLS ? next : Number.POSITIVE_INFINITY;
      const { client, connack } = await MqttRawClient.connect(mqttPort, { clientId: 'crash-meter', cleanStart: false, properties: { sessionExpiryInterval: 3600 } });
      expect(connack).toMatchObject({ type: PacketType.CONNACK, reasonCode: 0, sessionPresent: cycle > 0 });
      for (const message of inFlight.values()) {
        if (message.stage === 'sent') client.send(publish(message, true));
        else client.send({ type: PacketType.PUBREL, packetId: message.packetId, reasonCode: 0, properties: {} });
      }
      let acks = 0;
      let killing: Promise<unknown> | undefined;
      for (;;) {
        while (inFlight.size < WINDOW && next < target && killing === undefined) {
          const message: Outgoing = { n: next, packetId: (next % 60_000) + 1, stage: 'sent' };
          next++;
          inFlight.set(message.packetId, message);
          client.send(publish(message, false));
        }
        if (cycle === KILLS && inFlight.size === 0) break;
        let packet;
        try {
          packet = await client.next();
        } catch {
          break;
        }
        if (packet.type === PacketType.PUBREC) {
          const message = inFlight.get(packet.packetId)!;
          expect(packet.reasonCode).toBe(0);
          message.stage = 'received';
          delivered.add(message.n);
          client.send({ type: PacketType.PUBREL, packetId: packet.packetId, reasonCode: 0, properties: {} });
          if (++acks === killAfter) killing = proc.stop('SIGKILL');
        } else if (packet.type === PacketType.PUBCOMP) {
          inFlight.delete(packet.packetId);
        }
      }
      await client.destroy();
      if (killing !== undefined) await killing;
      else await proc.stop('SIGTERM');
    }
    const broker = await Broker.open({ config: { dataDir } });
    const counts = new Map<number, number>();
    let offset = 0;
    for (;;) {
      const [result] = await broker.fetch({ partitions: [{ topic: 'crash', partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: IsolationLevel.readCommitted });
      let read = false;
      for (const batch of readRecordBatches(result!.records)) {
        read = true;
        for (const record of batch.records()) {
          const n = Number(decoder.decode(record.value!).slice(2));
          counts.set(n, (counts.get(n) ?? 0) + 1);
        }
        offset = batch.lastOffset + 1;
      }
      if (!read) break;
    }
    await broker.close();
    const duplicates = [...counts].filter(([, c]) => c > 1);
    expect(duplicates).toEqual([]);
    expect([...delivered].filter((n) => counts.get(n) !== 1)).toEqual([]);
    // The final cycle completes every message ever sent.
    expect(counts.size).toBe(next);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, FULL ? 600_000 : 60_000);
