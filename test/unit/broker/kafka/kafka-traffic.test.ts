import { expect, it } from 'vitest';
import { KafkaTraffic } from '../../../../broker/kafka/kafka-traffic.ts';

const frame = (...bytes: number[]): Uint8Array => new Uint8Array(bytes);

it('counts requests by the api key at the start of their frame, keys the protocol does not name as unknown', () => {
  const traffic = new KafkaTraffic();
  traffic.countRequest(frame(0, 0, 0, 9));
  traffic.countRequest(frame(0, 0, 0, 9));
  traffic.countRequest(frame(0, 1, 0, 12));
  traffic.countRequest(frame(0, 120));
  traffic.countRequest(frame(0x03, 0xe7));
  traffic.countRequest(frame(0xff, 0xff));
  traffic.countRequest(frame(7));
  expect([...traffic.requestsByApi()]).toEqual([['Produce', 2], ['Fetch', 1], ['unknown', 4]]);
});
