import { decode, encode } from '@msgpack/msgpack';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { validateTopicName } from '../topic/topic-name.ts';
import { resolveShareGroupConfig, type ShareGroupConfig, type ShareGroupsOptions } from './share-config.ts';

/**
 * The share-group configs a GROUP config resource (IncrementalAlterConfigs / DescribeConfigs,
 * resource type 32) sets per group, by Kafka's names, with Rill's own under `rill.`.
 */
export const ShareGroupConfigName = {
  recordLockDurationMs: 'share.record.lock.duration.ms',
  deliveryCountLimit: 'share.delivery.count.limit',
  autoOffsetReset: 'share.auto.offset.reset',
  isolationLevel: 'share.isolation.level',
  deadLetterTopic: 'rill.share.dead.letter.topic',
  retryBackoffMs: 'rill.share.retry.backoff.ms',
} as const;
export type ShareGroupConfigNameValue = (typeof ShareGroupConfigName)[keyof typeof ShareGroupConfigName];

/** Kafka's ConfigDef types of each (DescribeConfigs `configType`): int 3, string 2, list 7. */
export const SHARE_GROUP_CONFIG_INFO: Readonly<Record<ShareGroupConfigNameValue, { type: 2 | 3 | 7; documentation: string }>> = {
  'share.record.lock.duration.ms': { type: 3, documentation: 'How long an acquired record stays locked to its consumer before it is delivered again.' },
  'share.delivery.count.limit': { type: 3, documentation: 'Deliveries after which a record is dead-lettered instead of delivered again.' },
  'share.auto.offset.reset': { type: 2, documentation: 'Where a share partition starts when the group first reads it: latest or earliest.' },
  'share.isolation.level': { type: 2, documentation: 'read_committed acquires only committed records; read_uncommitted acquires up to the high watermark.' },
  'rill.share.dead.letter.topic': { type: 2, documentation: 'Where rejected records and records past the delivery limit go; <group>-dlq by default.' },
  'rill.share.retry.backoff.ms': {
    type: 7,
    documentation: 'The retry ladder, e.g. 1000,10000,60000: a record returned after its n-th delivery is delivered again only after the n-th step (the last repeats); empty for at once.',
  },
};

const NAMES = Object.values(ShareGroupConfigName);

export function isShareGroupConfigName(name: string): name is ShareGroupConfigNameValue {
  return (NAMES as string[]).includes(name);
}

/** A group's config overrides as their Kafka names and string values. */
export type ShareGroupOverrides = Readonly<Partial<Record<ShareGroupConfigNameValue, string>>>;

function integer(name: string, value: string): number {
  const n = /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new KafkaError('INVALID_CONFIG', `${name} must be an integer, got "${value}"`);
  return n;
}

/** The typed settings of string overrides; a malformed value is INVALID_CONFIG naming it. */
export function parseShareGroupOverrides(overrides: ShareGroupOverrides): Partial<ShareGroupConfig> {
  const out: Partial<ShareGroupConfig> = {};
  for (const [name, value] of Object.entries(overrides) as [ShareGroupConfigNameValue, string][]) {
    switch (name) {
      case 'share.record.lock.duration.ms':
        out.recordLockDurationMs = integer(name, value);
        break;
      case 'share.delivery.count.limit':
        out.deliveryCountLimit = integer(name, value);
        break;
      case 'share.auto.offset.reset':
        out.autoOffsetReset = value as ShareGroupConfig['autoOffsetReset'];
        break;
      case 'share.isolation.level':
        out.isolationLevel = value as ShareGroupConfig['isolationLevel'];
        break;
      case 'rill.share.dead.letter.topic':
        try {
          validateTopicName(value);
        } catch (error) {
          throw new KafkaError('INVALID_CONFIG', `${name} "${value}" is not a valid topic name: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (value.startsWith('__')) throw new KafkaError('INVALID_CONFIG', `${name} "${value}" names an internal topic`);
        out.deadLetterTopic = value;
        break;
      case 'rill.share.retry.backoff.ms':
        out.retryBackoffMs = value.trim() === '' ? [] : value.split(',').map((step) => integer(name, step));
        break;
    }
  }
  return out;
}

/** A group's effective settings with `overrides` over the broker's options; a bad combination is INVALID_CONFIG. */
export function resolveWithOverrides(options: ShareGroupsOptions, groupId: string, overrides: ShareGroupOverrides | undefined): ShareGroupConfig {
  const parsed = overrides === undefined ? {} : parseShareGroupOverrides(overrides);
  try {
    return resolveShareGroupConfig({ ...options, groups: { ...options.groups, [groupId]: { ...options.groups?.[groupId], ...parsed } } }, groupId);
  } catch (error) {
    if (error instanceof RangeError) throw new KafkaError('INVALID_CONFIG', error.message);
    throw error;
  }
}

/** A setting's value as DescribeConfigs shows it. */
export function configValueString(config: ShareGroupConfig, groupId: string, name: ShareGroupConfigNameValue): string {
  switch (name) {
    case 'share.record.lock.duration.ms':
      return String(config.recordLockDurationMs);
    case 'share.delivery.count.limit':
      return String(config.deliveryCountLimit);
    case 'share.auto.offset.reset':
      return config.autoOffsetReset;
    case 'share.isolation.level':
      return config.isolationLevel;
    case 'rill.share.dead.letter.topic':
      return config.deadLetterTopic ?? `${groupId}-dlq`;
    case 'rill.share.retry.backoff.ms':
      return config.retryBackoffMs.join(',');
  }
}

/**
 * Group config records of `__share_group_state`, next to the share-partition snapshots
 * (share-state-record.ts) in the same compacted topic and the group's partition of it:
 *
 *   key   = [2, groupId: string]
 *   value = [1, {<config name>: <string value>, ...}]: the group's overrides, all of them
 *   value = null (a tombstone): the group has no overrides
 */
export const SHARE_GROUP_CONFIG_KEY_TYPE = 2;
const CONFIG_VALUE_VERSION = 1;

export function encodeShareGroupConfigKey(groupId: string): Uint8Array {
  return encode([SHARE_GROUP_CONFIG_KEY_TYPE, groupId]);
}

export function encodeShareGroupConfigValue(overrides: ShareGroupOverrides): Uint8Array | null {
  return Object.keys(overrides).length === 0 ? null : encode([CONFIG_VALUE_VERSION, overrides]);
}

/** The group id of a group config key, undefined for any other key type. */
export function decodeShareGroupConfigKey(bytes: Uint8Array): string | undefined {
  const key = decode(bytes);
  if (!Array.isArray(key) || key[0] !== SHARE_GROUP_CONFIG_KEY_TYPE) return undefined;
  if (typeof key[1] !== 'string') throw new Error('invariant: malformed __share_group_state group config key');
  return key[1];
}

export function decodeShareGroupConfigValue(bytes: Uint8Array | null): ShareGroupOverrides {
  if (bytes === null) return {};
  const value = decode(bytes);
  if (!Array.isArray(value) || value[0] !== CONFIG_VALUE_VERSION || typeof value[1] !== 'object' || value[1] === null) {
    throw new Error('invariant: malformed __share_group_state group config value');
  }
  const overrides: Partial<Record<ShareGroupConfigNameValue, string>> = {};
  // Names this version does not know (written by a newer one) are skipped, not fatal.
  for (const [name, v] of Object.entries(value[1] as Record<string, unknown>)) if (isShareGroupConfigName(name) && typeof v === 'string') overrides[name] = v;
  return overrides;
}
