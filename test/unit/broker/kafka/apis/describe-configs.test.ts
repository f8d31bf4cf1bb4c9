import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { TOPIC_CONFIG_INFO } from '../../../../../broker/kafka/apis/config-resource.ts';
import { describeConfigsHandler } from '../../../../../broker/kafka/apis/describe-configs.ts';
import { TOPIC_CONFIG_NAMES } from '../../../../../broker/topic/topic-config.ts';
import type { DescribeConfigsRequestDescribeConfigsResource } from '../../../../../sdk/protocol/mod.ts';
import { ErrorCode, exchange, openBroker, versionsOf } from './admin-test-support.ts';

const TOPIC = 2;
const BROKER = 4;

function resource(resourceType: number, resourceName: string, configurationKeys: string[] | null = null): DescribeConfigsRequestDescribeConfigsResource {
  return { resourceType, resourceName, configurationKeys };
}

function describeConfigs(
  broker: Broker,
  version: number,
  resources: DescribeConfigsRequestDescribeConfigsResource[],
  options: { includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
) {
  return exchange(describeConfigsHandler, broker, version, {
    resources,
    includeSynonyms: options.includeSynonyms ?? false,
    includeDocumentation: options.includeDocumentation ?? false,
  });
}

it('has type, synonym and documentation for exactly the topic configs the broker knows', () => {
  expect(Object.keys(TOPIC_CONFIG_INFO).sort()).toEqual([...TOPIC_CONFIG_NAMES].sort());
});

describe.each(versionsOf(describeConfigsHandler))('DescribeConfigs v%i', (version) => {
  it('describes every topic config with its value and where it comes from', async () => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'retention.ms': '1000' } });
    const { wire } = await describeConfigs(broker, version, [resource(TOPIC, 't')]);
    expect(wire.results).toHaveLength(1);
    const result = wire.results[0]!;
    expect(result).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: 't' });
    expect(result.configs.map((c) => c.name)).toEqual(TOPIC_CONFIG_NAMES);
    const retention = result.configs.find((c) => c.name === 'retention.ms')!;
    const segment = result.configs.find((c) => c.name === 'segment.bytes')!;
    expect(retention).toMatchObject({ value: '1000', readOnly: false, isSensitive: false, synonyms: [] });
    expect(segment).toMatchObject({ value: '1073741824', readOnly: false, isSensitive: false });
    if (version === 0) {
      expect([retention.isDefault, segment.isDefault]).toEqual([false, true]);
    } else {
      expect([retention.configSource, segment.configSource]).toEqual([1, 5]);
    }
  });

  it('returns only the requested keys, leaving out unknown ones; empty keys mean all', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const { wire } = await describeConfigs(broker, version, [
      resource(TOPIC, 't', ['cleanup.policy', 'no.such.config', 'retention.bytes']),
      resource(TOPIC, 't', []),
    ]);
    expect(wire.results[0]!.configs.map((c) => [c.name, c.value])).toEqual([
      ['cleanup.policy', 'delete'],
      ['retention.bytes', '-1'],
    ]);
    expect(wire.results[1]!.configs).toHaveLength(TOPIC_CONFIG_NAMES.length);
  });

  it.runIf(version >= 1)('lists synonyms, the override first and the broker default after, when asked', async () => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'retention.ms': '1000' } });
    const { wire } = await describeConfigs(broker, version, [resource(TOPIC, 't', ['retention.ms', 'segment.ms'])], { includeSynonyms: true });
    expect(wire.results[0]!.configs.map((c) => c.synonyms)).toEqual([
      [
        { name: 'retention.ms', value: '1000', source: 1 },
        { name: 'log.retention.ms', value: '604800000', source: 5 },
      ],
      [{ name: 'log.roll.ms', value: '604800000', source: 5 }],
    ]);
  });

  it.runIf(version >= 3)('gives config types, and documentation when asked', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const keys = ['cleanup.policy', 'retention.ms', 'segment.bytes'];
    const plain = await describeConfigs(broker, version, [resource(TOPIC, 't', keys)]);
    expect(plain.wire.results[0]!.configs.map((c) => [c.configType, c.documentation])).toEqual([
      [7, null],
      [5, null],
      [3, null],
    ]);
    const documented = await describeConfigs(broker, version, [resource(TOPIC, 't', keys)], { includeDocumentation: true });
    for (const config of documented.wire.results[0]!.configs) expect(config.documentation).toMatch(/\w+ \w+/);
  });

  it('answers an unknown topic with UNKNOWN_TOPIC_OR_PARTITION and an illegal name with INVALID_TOPIC_EXCEPTION', async () => {
    const broker = await openBroker();
    const { wire } = await describeConfigs(broker, version, [resource(TOPIC, 'missing'), resource(TOPIC, 'bad/name')]);
    expect(wire.results.map((r) => [r.resourceName, r.errorCode, r.configs.length])).toEqual([
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
    ]);
    expect(wire.results[0]!.errorMessage).toContain('"missing" does not exist');
  });

  it('describes this broker\'s startup configs as read-only', async () => {
    const broker = await openBroker({ config: { defaultPartitions: 3 } });
    const { wire } = await describeConfigs(broker, version, [resource(BROKER, '0')]);
    const result = wire.results[0]!;
    expect(result).toMatchObject({ errorCode: ErrorCode.NONE, resourceType: BROKER, resourceName: '0' });
    const configs = new Map(result.configs.map((c) => [c.name, c]));
    expect(configs.get('num.partitions')).toMatchObject({ value: '3', readOnly: true, isSensitive: false });
    expect(configs.get('auto.create.topics.enable')).toMatchObject({ value: 'true', readOnly: true });
    expect(configs.get('log.dirs')!.value).toBe(broker.config.dataDir);
    if (version === 0) {
      expect([configs.get('num.partitions')!.isDefault, configs.get('auto.create.topics.enable')!.isDefault]).toEqual([false, true]);
    } else {
      expect([configs.get('num.partitions')!.configSource, configs.get('auto.create.topics.enable')!.configSource]).toEqual([4, 5]);
    }
  });

  it('answers the cluster default broker resource with no configs and another broker id with INVALID_REQUEST', async () => {
    const broker = await openBroker();
    const { wire } = await describeConfigs(broker, version, [resource(BROKER, ''), resource(BROKER, '7')]);
    expect(wire.results.map((r) => [r.resourceName, r.errorCode, r.configs.length])).toEqual([
      ['', ErrorCode.NONE, 0],
      ['7', ErrorCode.INVALID_REQUEST, 0],
    ]);
  });

  it('answers an unsupported resource type with INVALID_REQUEST', async () => {
    const broker = await openBroker();
    const { wire } = await describeConfigs(broker, version, [resource(8, 'logger')]);
    expect(wire.results[0]).toMatchObject({ resourceType: 8, resourceName: 'logger', errorCode: ErrorCode.INVALID_REQUEST, configs: [] });
    expect(wire.results[0]!.errorMessage).toContain('resource type 8');
  });
});
