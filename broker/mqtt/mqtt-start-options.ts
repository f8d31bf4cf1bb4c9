import { readFileSync } from 'node:fs';
import { type MqttMappingRule, parseMappingRules } from './mqtt-topic-mapping.ts';

export interface MqttStartOptions {
  port: number;
  mapping: MqttMappingRule[];
}

/**
 * `rill start --mqtt-port PORT [--mqtt-mapping FILE]`: the MQTT listener is off unless a port is
 * given. The mapping file is a JSON array of rules (broker/mqtt/mqtt-topic-mapping.ts). A file
 * that cannot be read or parsed is an Error naming it.
 */
export function mqttStartOptions(values: Readonly<Record<string, string | boolean | undefined>>): MqttStartOptions | undefined {
  const port = values['mqtt-port'];
  const file = values['mqtt-mapping'];
  if (typeof port !== 'string') {
    if (typeof file === 'string') throw new Error('--mqtt-mapping needs --mqtt-port');
    return undefined;
  }
  if (typeof file !== 'string') return { port: Number(port), mapping: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`--mqtt-mapping ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return { port: Number(port), mapping: parseMappingRules(parsed) };
  } catch (error) {
    throw new Error(`--mqtt-mapping ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
