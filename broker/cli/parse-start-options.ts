import type { BrokerConfig } from '../config.ts';
import type { StartValues } from './start-option-definitions.ts';

export { UsageError } from './cli-errors.ts';

/** The broker config overrides among `rill start`'s settings (checked field by field in start-settings.ts). */
export function parseStartOptions(values: StartValues): Partial<BrokerConfig> {
  const config: Partial<BrokerConfig> = {};
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const dataDir = text('data-dir');
  if (dataDir !== undefined) config.dataDir = dataDir;
  const host = text('host');
  if (host !== undefined) config.host = host;
  const advertisedHost = text('advertised-host');
  if (advertisedHost !== undefined) config.advertisedHost = advertisedHost;
  const kafkaPort = text('kafka-port');
  if (kafkaPort !== undefined) config.kafkaPort = Number(kafkaPort);
  const httpPort = text('http-port');
  if (httpPort !== undefined) config.httpPort = Number(httpPort);
  const maxPartitions = text('max-partitions');
  if (maxPartitions !== undefined) config.maxPartitions = Number(maxPartitions);
  return config;
}
