import { type BrokerConfig, defaultBrokerConfig } from '../../config.ts';
import { ConfigType, type ConfigTypeValue } from './config-resource.ts';

export interface BrokerConfigEntry {
  name: string;
  value: string;
  /** The value is the built-in default rather than one set at startup. */
  isDefault: boolean;
  type: ConfigTypeValue;
  documentation: string;
}

interface BrokerConfigDefinition {
  name: string;
  type: ConfigTypeValue;
  documentation: string;
  read: (config: Readonly<BrokerConfig>) => string;
}

/** A single node always holds the only replica of everything it stores. */
const REPLICATION_FACTOR = '1';

const definitions: readonly BrokerConfigDefinition[] = [
  { name: 'node.id', type: ConfigType.int, documentation: 'This broker\'s id in Metadata responses.', read: (c) => String(c.nodeId) },
  { name: 'broker.id', type: ConfigType.int, documentation: 'The same as node.id.', read: (c) => String(c.nodeId) },
  {
    name: 'auto.create.topics.enable',
    type: ConfigType.boolean,
    documentation: 'Whether Produce and Metadata requests create the topics they name.',
    read: (c) => String(c.autoCreateTopics),
  },
  {
    name: 'num.partitions',
    type: ConfigType.int,
    documentation: 'The partition count of topics created without one.',
    read: (c) => String(c.defaultPartitions),
  },
  {
    name: 'default.replication.factor',
    type: ConfigType.int,
    documentation: 'Always 1: a single node holds the only replica.',
    read: () => REPLICATION_FACTOR,
  },
  { name: 'log.dirs', type: ConfigType.string, documentation: 'The data directory holding every partition.', read: (c) => c.dataDir },
  {
    name: 'log.retention.check.interval.ms',
    type: ConfigType.long,
    documentation: 'How often segments past retention are deleted.',
    read: (c) => String(c.retentionCheckIntervalMs),
  },
];

/** The broker-wide configs DescribeConfigs reports (read-only: they are set when the broker starts). */
export function brokerConfigEntries(config: Readonly<BrokerConfig>): BrokerConfigEntry[] {
  return definitions.map((d) => {
    const value = d.read(config);
    return { name: d.name, value, isDefault: value === d.read(defaultBrokerConfig), type: d.type, documentation: d.documentation };
  });
}
