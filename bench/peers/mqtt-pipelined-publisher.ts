import { connect, type Socket } from 'node:net';
import { PacketType } from '../../broker/mqtt/mqtt-packet.ts';
import { MqttPacketSplitter } from '../../broker/mqtt/mqtt-packet-splitter.ts';

export interface PipelinedPublishOptions {
  host: string;
  port: number;
  /** Connections, each publishing to a topic of its own. */
  clients: number;
  /** QoS 1 PUBLISH packets each connection keeps unacknowledged. */
  window: number;
  /** In all, split evenly across the connections. */
  messages: number;
  payload: Uint8Array;
}

export interface PipelinedPublishResult {
  /** Send-to-PUBACK times in ms, one per message. */
  latenciesMs: Float64Array;
  seconds: number;
}

/** Packet identifiers are 1..65535; a window must leave the one being reused acknowledged. */
const MAX_WINDOW = 65_535;
/** The replies expected (CONNACK, PUBACK) are 4 bytes; anything much larger is a broken run. */
const MAX_REPLY_BYTES = 1024;

/**
 * A lean MQTT 3.1.1 QoS 1 load generator: every PUBLISH is a copy of one template with only its
 * packet identifier patched, the publishes owed for the PUBACKs of one event loop turn leave in
 * one socket write, and replies are framed by the broker's own packet splitter and read by type
 * and packet identifier alone (no decoding into packet objects). It
 * spends about 1 µs a message where mqtt.js spends about 14, so on this machine's two cores it
 * leaves the broker, not the client, as what limits the rate. Any reply other than CONNACK and
 * PUBACK, a refused CONNECT or a PUBACK for an identifier not in flight fails the run.
 */
export async function publishPipelined(options: PipelinedPublishOptions): Promise<PipelinedPublishResult> {
  if (!Number.isInteger(options.window) || options.window < 1 || options.window > MAX_WINDOW) {
    throw new Error(`the window must be 1..${MAX_WINDOW}, got ${options.window}`);
  }
  const perClient = Math.ceil(options.messages / options.clients);
  const latencies = new Float64Array(perClient * options.clients);
  const started = performance.now();
  await Promise.all(Array.from({ length: options.clients }, (_, c) => publishOn(options, c, perClient, latencies.subarray(c * perClient, (c + 1) * perClient))));
  return { latenciesMs: latencies, seconds: (performance.now() - started) / 1000 };
}

function publishOn(options: PipelinedPublishOptions, client: number, count: number, latencies: Float64Array): Promise<void> {
  const template = publishTemplate(`bench/device-${client}/reading`, options.payload);
  // -1: not in flight.
  const sentAtMs = new Float64Array(MAX_WINDOW + 1).fill(-1);
  let sent = 0;
  let acknowledged = 0;
  let nextId = 1;
  let owed = 0;
  let flushScheduled = false;
  const splitter = new MqttPacketSplitter(MAX_REPLY_BYTES);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(options.port, options.host);
    socket.setNoDelay(true);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    const send = (n: number): void => {
      const batch = Math.min(n, count - sent);
      if (batch <= 0) return;
      const out = new Uint8Array(template.bytes.length * batch);
      const nowMs = performance.now();
      for (let i = 0, at = 0; i < batch; i++, at += template.bytes.length) {
        out.set(template.bytes, at);
        out[at + template.packetIdAt] = nextId >> 8;
        out[at + template.packetIdAt + 1] = nextId & 0xff;
        sentAtMs[nextId] = nowMs;
        nextId = nextId === MAX_WINDOW ? 1 : nextId + 1;
      }
      sent += batch;
      socket.write(out);
    };
    socket.once('connect', () => socket.write(connectPacket(`bench-pipelined-${client}`)));
    socket.on('error', fail);
    socket.on('close', () => {
      if (acknowledged < count) fail(new Error(`connection ${client} closed after ${acknowledged} of ${count} PUBACKs`));
    });
    socket.on('data', (chunk: Buffer) => {
      const nowMs = performance.now();
      let newlyAcknowledged = 0;
      for (const { first, body } of splitter.push(chunk)) {
        const type = first >> 4;
        if (type === PacketType.CONNACK) {
          const returnCode = body[1];
          if (returnCode !== 0) return fail(new Error(`connection ${client}: CONNECT refused with return code ${returnCode}`));
          send(options.window);
        } else if (type === PacketType.PUBACK) {
          const id = (body[0]! << 8) | body[1]!;
          const sentAt = sentAtMs[id]!;
          if (sentAt < 0 || acknowledged + newlyAcknowledged >= sent) return fail(new Error(`connection ${client}: PUBACK for packet ${id}, which is not in flight`));
          sentAtMs[id] = -1;
          latencies[acknowledged + newlyAcknowledged] = nowMs - sentAt;
          newlyAcknowledged++;
        } else {
          return fail(new Error(`connection ${client}: unexpected packet type ${type}`));
        }
      }
      acknowledged += newlyAcknowledged;
      if (acknowledged === count) {
        socket.end(Uint8Array.from([0xe0, 0x00]));
        return resolve();
      }
      owed += newlyAcknowledged;
      if (owed > 0 && !flushScheduled) {
        flushScheduled = true;
        setImmediate(() => {
          flushScheduled = false;
          const n = owed;
          owed = 0;
          send(n);
        });
      }
    });
  });
}

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    const digit = n % 128;
    n = Math.floor(n / 128);
    out.push(n > 0 ? digit | 0x80 : digit);
  } while (n > 0);
  return out;
}

/** CONNECT (MQTT 3.1.1 §3.1): protocol name "MQTT", level 4, clean session, keep-alive 60 s, the client id. */
function connectPacket(clientId: string): Uint8Array {
  const id = new TextEncoder().encode(clientId);
  const body = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 60, id.length >> 8, id.length & 0xff, ...id];
  return Uint8Array.from([0x10, ...remainingLength(body.length), ...body]);
}

/** PUBLISH QoS 1 (§3.3): fixed header 0x32, topic, a packet identifier at `packetIdAt`, the payload. */
function publishTemplate(topic: string, payload: Uint8Array): { bytes: Uint8Array; packetIdAt: number } {
  const name = new TextEncoder().encode(topic);
  const head = [0x32, ...remainingLength(2 + name.length + 2 + payload.length), name.length >> 8, name.length & 0xff];
  const bytes = new Uint8Array(head.length + name.length + 2 + payload.length);
  bytes.set(head);
  bytes.set(name, head.length);
  bytes.set(payload, head.length + name.length + 2);
  return { bytes, packetIdAt: head.length + name.length };
}
