import { ApiKey } from '../../protocol/mod.ts';
import { KafkaError } from '../../protocol/kafka-error.ts';
import type { Transport } from '../../transport/transport.ts';
import { throwIfError } from '../error-from-code.ts';

/** Kafka 4's GROUP config resource type. */
const GROUP_RESOURCE = 32;
/** Kafka's ConfigSource.DYNAMIC_GROUP_CONFIG: set on the group rather than a default. */
const DYNAMIC_GROUP_CONFIG = 8;

/** One group config as DescribeConfigs reports it. */
export interface GroupConfigEntry {
  name: string;
  value: string | null;
  /** Set on this group (an override), not the broker's default. */
  isOverride: boolean;
}

/**
 * Per-group configs on the GROUP config resource (KIP-848/KIP-932): on Rill, the share-group
 * settings `share.record.lock.duration.ms`, `share.delivery.count.limit`, `share.auto.offset.reset`,
 * `share.isolation.level`, `rill.share.dead.letter.topic` and `rill.share.retry.backoff.ms`.
 */
export class GroupConfigAdmin {
  constructor(private readonly transport: Transport) {}

  async describeGroupConfigs(group: string): Promise<GroupConfigEntry[]> {
    const version = await this.transport.apiVersion(ApiKey.DescribeConfigs);
    const response = await this.transport.send(ApiKey.DescribeConfigs, version, {
      resources: [{ resourceType: GROUP_RESOURCE, resourceName: group, configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const result = response.results[0];
    if (result === undefined) throw new KafkaError('UNKNOWN_SERVER_ERROR', `DescribeConfigs returned nothing for group ${group}`);
    throwIfError(result.errorCode, `describe configs of group ${group}`, result.errorMessage);
    return result.configs.map((c) => ({ name: c.name, value: c.value, isOverride: c.configSource === DYNAMIC_GROUP_CONFIG }));
  }

  /** Sets (string) or removes (null, back to the default) group configs, all or none. */
  async alterGroupConfigs(group: string, changes: Readonly<Record<string, string | null>>, options: { validateOnly?: boolean } = {}): Promise<void> {
    const version = await this.transport.apiVersion(ApiKey.IncrementalAlterConfigs);
    const response = await this.transport.send(ApiKey.IncrementalAlterConfigs, version, {
      resources: [
        {
          resourceType: GROUP_RESOURCE,
          resourceName: group,
          configs: Object.entries(changes).map(([name, value]) => ({ name, configOperation: value === null ? 1 : 0, value })),
        },
      ],
      validateOnly: options.validateOnly ?? false,
    });
    for (const r of response.responses) throwIfError(r.errorCode, `alter configs of group ${r.resourceName}`, r.errorMessage);
  }
}
