import { expect, it } from 'vitest';
import { decodePacket } from '../../../../broker/mqtt/mqtt-decode.ts';
import { ProtocolVersion } from '../../../../broker/mqtt/mqtt-packet.ts';
import { MqttPacketSplitter } from '../../../../broker/mqtt/mqtt-packet-splitter.ts';
import { MqttProtocolError } from '../../../../broker/mqtt/mqtt-reason-code.ts';
import { FuzzRandom, mutatePacket, seedPackets } from '../../../helpers/mqtt-fuzz-packets.ts';

/**
 * 100,000 malformed and random packets (RILL_MQTT_FUZZ_PACKETS overrides) through the splitter and
 * decoder of both protocol versions: each is decoded or refused with an MqttProtocolError, never
 * another exception. RILL_MQTT_FUZZ_SEED replays a run.
 */
const PACKETS = Number(process.env['RILL_MQTT_FUZZ_PACKETS'] ?? 100_000);
const SEED = Number(process.env['RILL_MQTT_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

it(`decodes or refuses ${PACKETS} malformed packets with a reason code (seed ${SEED})`, () => {
  const random = new FuzzRandom(SEED);
  const seeds = seedPackets(SEED);
  let refused = 0;
  for (let i = 0; i < PACKETS; i++) {
    const bytes = mutatePacket(random, seeds);
    const version = random.chance(0.5) ? ProtocolVersion.v5 : ProtocolVersion.v311;
    try {
      for (const raw of new MqttPacketSplitter(1 << 16).push(bytes)) decodePacket(raw.first, raw.body, version);
    } catch (error) {
      if (!(error instanceof MqttProtocolError)) throw new Error(`seed ${SEED} packet ${i} (${Buffer.from(bytes).toString('hex')}) threw ${String(error)}`);
      expect(error.reasonCode).toBeGreaterThanOrEqual(0x80);
      refused++;
    }
  }
  // Most mutations must be refused, or the fuzzer is not exercising the checks.
  expect(refused).toBeGreaterThan(PACKETS / 3);
});
