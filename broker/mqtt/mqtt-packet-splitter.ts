import { malformed, MqttProtocolError, ReasonCode } from './mqtt-reason-code.ts';

/** One control packet as framed on the wire: the fixed header's first byte and the Remaining Length bytes. */
export interface RawPacket {
  first: number;
  body: Uint8Array;
}

/**
 * Splits a TCP byte stream into MQTT control packets (§2.1: one byte of type and flags, a
 * Remaining Length as a Variable Byte Integer, then that many bytes). A packet whose total size
 * passes `maxPacketBytes` is refused as soon as its header is read (Packet Too Large), so memory
 * follows the bytes received and the limit, never a declared length.
 */
export class MqttPacketSplitter {
  private buffer = new Uint8Array(0);

  constructor(private maxPacketBytes: number) {}

  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** Lowers or raises the limit (CONNECT may negotiate). */
  setMaxPacketBytes(bytes: number): void {
    this.maxPacketBytes = bytes;
  }

  /** Adds a chunk and returns every packet it completes, in order; throws MqttProtocolError on a bad header. */
  push(chunk: Uint8Array): RawPacket[] {
    const bytes = this.buffer.length === 0 ? chunk : concat(this.buffer, chunk);
    const packets: RawPacket[] = [];
    let at = 0;
    for (;;) {
      const header = this.header(bytes, at);
      if (header === undefined) break;
      const total = header.headerBytes + header.remainingLength;
      if (bytes.length - at < total) break;
      packets.push({ first: bytes[at]!, body: bytes.slice(at + header.headerBytes, at + total) });
      at += total;
    }
    this.buffer = at === bytes.length ? new Uint8Array(0) : bytes.slice(at);
    return packets;
  }

  private header(bytes: Uint8Array, at: number): { headerBytes: number; remainingLength: number } | undefined {
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      if (at + 1 + i >= bytes.length) return undefined;
      const b = bytes[at + 1 + i]!;
      value += (b & 0x7f) * multiplier;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw malformed('Remaining Length is not in its shortest encoding');
        const headerBytes = 2 + i;
        if (headerBytes + value > this.maxPacketBytes) {
          throw new MqttProtocolError(ReasonCode.PacketTooLarge, `packet of ${headerBytes + value} bytes is larger than the maximum of ${this.maxPacketBytes}`);
        }
        return { headerBytes, remainingLength: value };
      }
      multiplier *= 128;
    }
    throw malformed('Remaining Length is longer than 4 bytes');
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
