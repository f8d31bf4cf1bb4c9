import type { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { SecureBroker } from './secure-broker.ts';

/** A broker in this process with one plaintext Kafka listener on 127.0.0.1, for CLI subprocess tests. */
export async function openCliBroker(): Promise<{ secure: SecureBroker; listener: KafkaListener; bootstrap: string }> {
  const secure = await SecureBroker.open();
  const listener = await secure.listen({});
  return { secure, listener, bootstrap: `127.0.0.1:${listener.advertised.port}` };
}
