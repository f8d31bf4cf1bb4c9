import fc from 'fast-check';
import { encodePacket } from '../../broker/mqtt/mqtt-encode.ts';
import { ProtocolVersion, type ProtocolVersionValue } from '../../broker/mqtt/mqtt-packet.ts';
import { FuzzRandom } from './fuzz-random.ts';
import { packetArbitrary } from './mqtt-arbitraries.ts';

/** Valid packets of both versions to mutate, drawn once from the codec's own arbitraries. */
export function seedPackets(seed: number, count = 400): { version: ProtocolVersionValue; bytes: Uint8Array }[] {
  const out: { version: ProtocolVersionValue; bytes: Uint8Array }[] = [];
  for (const version of [ProtocolVersion.v311, ProtocolVersion.v5]) {
    for (const packet of fc.sample(packetArbitrary(version), { seed: seed + version, numRuns: count / 2 })) out.push({ version, bytes: encodePacket(packet, version) });
  }
  return out;
}

/**
 * One malformed or random packet: a seed packet with bytes flipped, cut, inserted, or its
 * Remaining Length rewritten, or plain random bytes behind a random first byte. Mostly invalid;
 * some mutations stay valid, which the caller must tolerate.
 */
export function mutatePacket(random: FuzzRandom, seeds: readonly { bytes: Uint8Array }[]): Uint8Array {
  const kind = random.int(6);
  if (kind === 0) {
    const body = random.bytes(random.int(64));
    return Uint8Array.from([random.int(256), body.length, ...body]);
  }
  const seed = seeds[random.int(seeds.length)]!.bytes;
  const bytes = Uint8Array.from(seed);
  switch (kind) {
    case 1:
      for (let i = 0, n = 1 + random.int(4); i < n; i++) bytes[random.int(bytes.length)] = random.int(256);
      return bytes;
    case 2: {
      // Cut the body but keep a consistent Remaining Length, so the decoder sees the short packet.
      const headerBytes = 2;
      if (bytes.length <= headerBytes || bytes[1]! >= 0x80) return bytes.subarray(0, 1 + random.int(bytes.length));
      const body = bytes.subarray(headerBytes, headerBytes + random.int(bytes.length - headerBytes));
      return Uint8Array.from([bytes[0]!, body.length, ...body]);
    }
    case 3: {
      if (bytes.length < 2 || bytes[1]! >= 0x80) return bytes;
      const at = 2 + random.int(bytes.length - 1);
      const extra = random.bytes(1 + random.int(8));
      const body = [...bytes.subarray(2, at), ...extra, ...bytes.subarray(at)];
      return body.length < 128 ? Uint8Array.from([bytes[0]!, body.length, ...body]) : bytes;
    }
    case 4:
      bytes[0] = (bytes[0]! & 0xf0) | random.int(16);
      return bytes;
    default:
      bytes[0] = (random.int(16) << 4) | (bytes[0]! & 0x0f);
      return bytes;
  }
}

export { FuzzRandom };
