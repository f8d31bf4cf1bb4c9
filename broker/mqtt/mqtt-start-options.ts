import { readFileSync } from 'node:fs';
import type { TlsListenerOptions } from '../security/tls-config.ts';
import { tlsStartOptions } from '../security/tls-start-options.ts';
import { type MqttMappingRule, parseMappingRules } from './mqtt-topic-mapping.ts';

export interface MqttStartOptions {
  port: number;
  mapping: MqttMappingRule[];
  /** mqtts: the listener serves TLS only. */
  tls?: TlsListenerOptions;
}

/**
 * `rill start --mqtt-port PORT [--mqtt-mapping FILE] [--mqtt-tls-cert FILE --mqtt-tls-key FILE
 * [--mqtt-tls-ca FILE] [--mqtt-tls-client-auth MODE]]`: the MQTT listener is off unless a port is
 * given. The mapping file is a JSON array of rules (broker/mqtt/mqtt-topic-mapping.ts). A file
 * that cannot be read or parsed, or a bad TLS combination, is an Error naming the flag.
 */
export function mqttStartOptions(values: Readonly<Record<string, string | boolean | undefined>>): MqttStartOptions | undefined {
  const port = values['mqtt-port'];
  const file = values['mqtt-mapping'];
  const tls = tlsStartOptions('mqtt', values);
  if (typeof port !== 'string') {
    if (typeof file === 'string') throw new Error('--mqtt-mapping needs --mqtt-port');
    if (tls !== undefined) throw new Error('--mqtt-tls-cert needs --mqtt-port');
    return undefined;
  }
  const withTls = tls === undefined ? {} : { tls };
  if (typeof file !== 'string') return { port: Number(port), mapping: [], ...withTls };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`--mqtt-mapping ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return { port: Number(port), mapping: parseMappingRules(parsed), ...withTls };
  } catch (error) {
    throw new Error(`--mqtt-mapping ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
