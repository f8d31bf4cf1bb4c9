import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import { configValueString, SHARE_GROUP_CONFIG_INFO, ShareGroupConfigName } from '../../share/share-group-dynamic-config.ts';
import { ConfigOperation, ConfigSource, type DescribedConfigEntry } from './config-resource.ts';

/**
 * Every share-group config of `groupId` with its effective value: `dynamicGroupConfig` (Kafka's
 * source 8, DYNAMIC_GROUP_CONFIG) when set on the group, else the broker's default (from
 * `BrokerOptions.shareGroups`) as `defaultConfig`. A group need not exist to be described or set,
 * as in Kafka: configs set before the first member joins apply when it does.
 */
export function groupConfigEntries(broker: Broker, groupId: string): DescribedConfigEntry[] {
  if (groupId === '') throw new KafkaError('INVALID_GROUP_ID', 'the group id is empty');
  const coordinator = broker.shareGroups;
  const config = coordinator.configOf(groupId);
  const overrides = coordinator.groupOverrides(groupId);
  return Object.values(ShareGroupConfigName).map((name) => {
    const set = overrides[name] !== undefined;
    const value = configValueString(config, groupId, name);
    const source = set ? DYNAMIC_GROUP_CONFIG : ConfigSource.defaultConfig;
    return { name, value, readOnly: false, source, synonyms: [{ name, value, source }], configType: SHARE_GROUP_CONFIG_INFO[name].type, documentation: SHARE_GROUP_CONFIG_INFO[name].documentation };
  });
}

/** Kafka's ConfigSource.DYNAMIC_GROUP_CONFIG. */
export const DYNAMIC_GROUP_CONFIG = 8;

/**
 * An IncrementalAlterConfigs GROUP resource as changes: SET a value, DELETE back to the default.
 * APPEND and SUBTRACT are refused (the one list, the retry ladder, is set whole), and so is the
 * legacy AlterConfigs, which Kafka does not accept for groups either.
 */
export function groupConfigChanges(configs: readonly { name: string; value?: string | null; configOperation?: number }[]): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const config of configs) {
    if (config.configOperation === undefined) throw new KafkaError('INVALID_REQUEST', 'group configs are set with IncrementalAlterConfigs, not AlterConfigs');
    if (config.configOperation === ConfigOperation.set) {
      if (config.value === null || config.value === undefined) throw new KafkaError('INVALID_CONFIG', `config "${config.name}" has a null value`);
      changes[config.name] = config.value;
    } else if (config.configOperation === ConfigOperation.delete) {
      changes[config.name] = null;
    } else {
      throw new KafkaError('INVALID_REQUEST', `group config "${config.name}": use SET (0) or DELETE (1); APPEND and SUBTRACT do not apply to share group configs`);
    }
  }
  return changes;
}
