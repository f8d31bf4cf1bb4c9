import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type {
  DescribeConfigsRequestDescribeConfigsResource,
  DescribeConfigsResponseDescribeConfigsResourceResult,
  DescribeConfigsResponseDescribeConfigsResult,
  DescribeConfigsResponseDescribeConfigsSynonym,
} from '../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import { describeTopicConfig } from '../../topic/topic-config.ts';
import { validateTopicName } from '../../topic/topic-name.ts';
import type { ApiHandler } from '../api-handler.ts';
import { NO_ERROR } from './admin-result.ts';
import { errorFields } from './kafka-error-fields.ts';
import { brokerConfigEntries } from './broker-configs.ts';
import { ConfigResourceType, ConfigSource, type DescribedConfigEntry, TOPIC_CONFIG_INFO } from './config-resource.ts';
import { groupConfigEntries } from './group-configs.ts';

interface DescribeOptions {
  version: number;
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}


function toResult(entry: DescribedConfigEntry, options: DescribeOptions): DescribeConfigsResponseDescribeConfigsResourceResult {
  return {
    name: entry.name,
    value: entry.value,
    readOnly: entry.readOnly,
    // v0 has only `isDefault`; v1 replaced it with `configSource`, and the codec refuses a set
    // `isDefault` in versions that lack it.
    isDefault: options.version === 0 && entry.source === ConfigSource.defaultConfig,
    configSource: entry.source,
    isSensitive: false,
    synonyms: options.includeSynonyms ? entry.synonyms : [],
    configType: entry.configType,
    documentation: options.includeDocumentation ? entry.documentation : null,
  };
}

/**
 * Every topic config with its effective value. Synonyms list, most precedent first, the topic's
 * own override and then the broker-wide default it falls back to (under the broker's name for
 * it, e.g. `log.retention.ms`), as Kafka does.
 */
function topicEntries(broker: Broker, name: string): DescribedConfigEntry[] {
  validateTopicName(name);
  const defaults = new Map(describeTopicConfig({}, broker.config.topicDefaults).map((c) => [c.name, c.value]));
  return broker.describeTopic(name).configs.map((config) => {
    const info = TOPIC_CONFIG_INFO[config.name];
    if (info === undefined) throw new Error(`topic config "${config.name}" has no entry in TOPIC_CONFIG_INFO`);
    const defaultValue = defaults.get(config.name) ?? null;
    const synonyms: DescribeConfigsResponseDescribeConfigsSynonym[] = [];
    if (!config.isDefault) synonyms.push({ name: config.name, value: config.value, source: ConfigSource.dynamicTopicConfig });
    synonyms.push({ name: info.brokerSynonym, value: defaultValue, source: ConfigSource.defaultConfig });
    return {
      name: config.name,
      value: config.value,
      readOnly: false,
      source: config.isDefault ? ConfigSource.defaultConfig : ConfigSource.dynamicTopicConfig,
      synonyms,
      configType: info.type,
      documentation: info.documentation,
    };
  });
}

/**
 * The broker's startup configs, all read-only. The resource name is this broker's id, or empty
 * for the cluster-wide dynamic defaults, of which a broker configured only at startup has none.
 */
function brokerEntries(broker: Broker, name: string): DescribedConfigEntry[] {
  if (name === '') return [];
  if (name !== String(broker.config.nodeId)) {
    throw new KafkaError('INVALID_REQUEST', `unexpected broker id "${name}"; this is broker ${broker.config.nodeId}`);
  }
  return brokerConfigEntries(broker.config).map((entry) => {
    const source = entry.isDefault ? ConfigSource.defaultConfig : ConfigSource.staticBrokerConfig;
    return {
      name: entry.name,
      value: entry.value,
      readOnly: true,
      source,
      synonyms: [{ name: entry.name, value: entry.value, source }],
      configType: entry.type,
      documentation: entry.documentation,
    };
  });
}

function describeResource(
  broker: Broker,
  resource: DescribeConfigsRequestDescribeConfigsResource,
  options: DescribeOptions,
): DescribeConfigsResponseDescribeConfigsResult {
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  let entries: DescribedConfigEntry[];
  try {
    if (resource.resourceType === ConfigResourceType.topic) entries = topicEntries(broker, resource.resourceName);
    else if (resource.resourceType === ConfigResourceType.broker) entries = brokerEntries(broker, resource.resourceName);
    else if (resource.resourceType === ConfigResourceType.group) entries = groupConfigEntries(broker, resource.resourceName);
    else throw new KafkaError('INVALID_REQUEST', `config resource type ${resource.resourceType} is not supported; use 2 (topic), 4 (broker) or 32 (group)`);
  } catch (error) {
    return { ...base, ...errorFields(error), configs: [] };
  }
  // Null or empty keys mean every config; unknown keys are left out rather than failing the resource.
  const keys = resource.configurationKeys;
  const wanted = keys === null || keys.length === 0 ? entries : entries.filter((e) => keys.includes(e.name));
  return { ...base, ...NO_ERROR, configs: wanted.map((e) => toResult(e, options)) };
}

/** DescribeConfigs for topics (every topic config, with sources and synonyms) and this broker. */
export const describeConfigsHandler: ApiHandler<typeof ApiKey.DescribeConfigs> = {
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const options: DescribeOptions = {
      version: context.apiVersion,
      includeSynonyms: request.includeSynonyms,
      includeDocumentation: request.includeDocumentation,
    };
    return {
      throttleTimeMs: 0,
      results: request.resources.map((resource) => describeResource(context.broker, resource, options)),
    };
  },
};
