import { connect, type Socket } from 'node:net';
import { decodePacket } from '../../broker/mqtt/mqtt-decode.ts';
import { encodePacket } from '../../broker/mqtt/mqtt-encode.ts';
import { type MqttPacket, PacketType, ProtocolVersion, type ProtocolVersionValue } from '../../broker/mqtt/mqtt-packet.ts';
import { MqttPacketSplitter } from '../../broker/mqtt/mqtt-packet-splitter.ts';

/**
 * A byte-level MQTT client for tests: sends exactly the packets a test builds (or raw bytes) and
 * hands back what the broker answers, packet by packet, so a test can stop a flow at any step.
 */
export class MqttRawClient {
  private readonly received: MqttPacket[] = [];
  private waiters: (() => void)[] = [];
  private readonly splitter = new MqttPacketSplitter(1 << 28);
  closed = false;
  private readonly closedPromise: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    readonly version: ProtocolVersionValue,
  ) {
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.notify();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Uint8Array) => {
      for (const raw of this.splitter.push(chunk)) this.received.push(decodePacket(raw.first, raw.body, this.version));
      this.notify();
    });
  }

  static async open(port: number, version: ProtocolVersionValue = ProtocolVersion.v5): Promise<MqttRawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new MqttRawClient(socket, version);
  }

  /** Opens a connection and CONNECTs; resolves with the CONNACK. */
  static async connect(port: number, connect: Partial<Extract<MqttPacket, { type: 1 }>> & { clientId: string }, version: ProtocolVersionValue = ProtocolVersion.v5): Promise<{ client: MqttRawClient; connack: MqttPacket }> {
    const client = await MqttRawClient.open(port, version);
    client.send({ type: PacketType.CONNECT, protocolVersion: version, cleanStart: true, keepAliveSeconds: 0, properties: {}, ...connect });
    return { client, connack: await client.next() };
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  send(packet: MqttPacket): void {
    this.socket.write(encodePacket(packet, this.version));
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next packet from the broker; rejects if the connection closes first. */
  async next(): Promise<MqttPacket> {
    for (;;) {
      const packet = this.received.shift();
      if (packet !== undefined) return packet;
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Every packet until the broker closes the connection. */
  async untilClosed(): Promise<MqttPacket[]> {
    await this.closedPromise;
    return this.received.splice(0);
  }

  destroy(): Promise<void> {
    this.socket.destroy();
    return this.closedPromise;
  }
}
