import { connect, createServer, type Server, type Socket } from 'node:net';
import { PacketType } from '../../broker/mqtt/mqtt-packet.ts';
import { MqttPacketSplitter } from '../../broker/mqtt/mqtt-packet-splitter.ts';

/**
 * A TCP proxy in front of an MQTT listener that loses acknowledgements: when `cut` says so for a
 * packet from the broker, it closes the client's connection instead of forwarding it. The broker
 * has already acted (a PUBREC means the message is in the log), so the client retries something
 * that happened, which is what QoS 2 must absorb.
 */
export class MqttCuttingProxy {
  private readonly sockets = new Set<Socket>();
  cuts = 0;

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number, cut: (packetType: number) => boolean): Promise<MqttCuttingProxy> {
    const server = createServer();
    const proxy = new MqttCuttingProxy(server);
    server.on('connection', (client: Socket) => {
      const upstream = connect(targetPort, '127.0.0.1');
      proxy.sockets.add(client).add(upstream);
      const splitter = new MqttPacketSplitter(1 << 28);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.on('data', (chunk: Uint8Array) => upstream.write(chunk));
      upstream.on('data', (chunk: Uint8Array) => {
        for (const raw of splitter.push(chunk)) {
          if (cut(raw.first >> 4)) {
            proxy.cuts++;
            close();
            return;
          }
          const header = [raw.first];
          let length = raw.body.length;
          do {
            let b = length % 128;
            length = Math.floor(length / 128);
            if (length > 0) b |= 0x80;
            header.push(b);
          } while (length > 0);
          client.write(Uint8Array.from(header));
          client.write(raw.body);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('invariant: proxy has no address');
    return address.port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export { PacketType };
