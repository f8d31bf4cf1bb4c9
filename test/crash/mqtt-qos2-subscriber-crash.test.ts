import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type MqttPacket, PacketType } from '../../broker/mqtt/mqtt-packet.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { MqttRawClient } from '../helpers/mqtt-raw-client.ts';

/**
 * A QoS 2 subscriber of a persistent session against `rill start --mqtt-port` whose broker is
 * SIGKILLed while it delivers, again and again. The client keeps its side of the session as MQTT
 * has it (§4.3.3): a PUBLISH whose packet id it holds (received, not yet released by PUBREL) is a
 * duplicate; any other is a new message, handed to the application. Every message published must
 * reach the application exactly once. The client's Receive Maximum keeps a read of the log spread
 * over many round trips, so kills land mid-read. 3 kills by default; RILL_CRASH_FULL=1 for 20.
 */
const FULL = process.env.RILL_CRASH_FULL === '1';
const KILLS = FULL ? 20 : 3;
const MESSAGES = FULL ? 400 : 120;
const RECEIVE_MAXIMUM = 8;
/** How long the last cycle waits for a packet before it reports what is missing. */
const FINAL_QUIET_MS = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SESSION = { cleanStart: false, properties: { sessionExpiryInterval: 3600, receiveMaximum: RECEIVE_MAXIMUM } };

async function startBroker(dataDir: string): Promise<{ proc: BrokerProcess; mqttPort: number }> {
  const proc = await startBrokerProcess({ dataDir, args: ['--mqtt-port', '0'] });
  const line = await proc.process.waitForLine(/mqtt listening on /);
  return { proc, mqttPort: Number(/:(\d+)/.exec(line.slice(line.indexOf('listening on')))![1]) };
}

/** Publishes messages `m-0` … at QoS 2 (16 in flight), each until PUBCOMP. */
async function publishAll(mqttPort: number): Promise<void> {
  const { client } = await MqttRawClient.connect(mqttPort, { clientId: 'crash-sub-publisher' });
  let sent = 0;
  let completed = 0;
  const send = (n: number): void =>
    client.send({ type: PacketType.PUBLISH, dup: false, qos: 2, retain: false, topic: 'crashsub/meter', packetId: n + 1, properties: {}, payload: encoder.encode(`m-${n}`) });
  while (sent < 16 && sent < MESSAGES) send(sent++);
  while (completed < MESSAGES) {
    const packet = await client.next();
    if (packet.type === PacketType.PUBREC) client.send({ type: PacketType.PUBREL, packetId: packet.packetId, reasonCode: 0, properties: {} });
    else if (packet.type === PacketType.PUBCOMP) {
      completed++;
      if (sent < MESSAGES) send(sent++);
    }
  }
  await client.destroy();
}

/** The next packet, or undefined once the connection is gone or nothing came for `quietMs`. */
async function nextOrEnd(client: MqttRawClient, quietMs: number): Promise<MqttPacket | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const quiet = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), quietMs);
  });
  try {
    return await Promise.race([client.next().catch(() => undefined), quiet]);
  } finally {
    clearTimeout(timer);
  }
}

it(`a QoS 2 subscriber gets every message exactly once across ${KILLS} broker SIGKILLs`, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-mqtt-sub-crash-'));
  /** Packet ids received and not yet released: the client's half of the QoS 2 flows. */
  const held = new Set<number>();
  const handedToApp = new Map<number, number>();
  try {
    for (let cycle = 0; cycle <= KILLS; cycle++) {
      const { proc, mqttPort } = await startBroker(dataDir);
      if (cycle === 0) {
        // Subscribed, then away while everything is published: the reads below start from the subscription's position.
        const { client } = await MqttRawClient.connect(mqttPort, { clientId: 'crash-subscriber', ...SESSION });
        client.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: 'crashsub/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: {} });
        expect(await client.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [2] });
        await client.destroy();
        await publishAll(mqttPort);
      }
      const last = cycle === KILLS;
      const killAfter = last ? Number.POSITIVE_INFINITY : 4 + Math.floor(Math.random() * 40);
      const { client, connack } = await MqttRawClient.connect(mqttPort, { clientId: 'crash-subscriber', ...SESSION });
      expect(connack).toMatchObject({ type: PacketType.CONNACK, reasonCode: 0, sessionPresent: true });
      let packets = 0;
      let killing: Promise<unknown> | undefined;
      for (;;) {
        if (handedToApp.size === MESSAGES && held.size === 0) {
          if (last) break;
          killing ??= proc.stop('SIGKILL');
        }
        const packet = await nextOrEnd(client, last ? FINAL_QUIET_MS : 60_000);
        if (packet === undefined) break;
        if (packet.type === PacketType.PUBLISH) {
          expect(packet.qos).toBe(2);
          const packetId = packet.packetId!;
          if (!held.has(packetId)) {
            held.add(packetId);
            const n = Number(decoder.decode(packet.payload).slice(2));
            handedToApp.set(n, (handedToApp.get(n) ?? 0) + 1);
          }
          client.send({ type: PacketType.PUBREC, packetId, reasonCode: 0, properties: {} });
        } else if (packet.type === PacketType.PUBREL) {
          held.delete(packet.packetId);
          client.send({ type: PacketType.PUBCOMP, packetId: packet.packetId, reasonCode: 0, properties: {} });
        }
        if (++packets === killAfter) killing = proc.stop('SIGKILL');
      }
      await client.destroy();
      if (killing !== undefined) await killing;
      else await proc.stop('SIGTERM');
    }
    expect([...handedToApp].filter(([, count]) => count > 1)).toEqual([]);
    expect(Array.from({ length: MESSAGES }, (_, n) => n).filter((n) => !handedToApp.has(n))).toEqual([]);
    expect(held.size).toBe(0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, FULL ? 600_000 : 90_000);
