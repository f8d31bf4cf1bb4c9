import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { alterConfigsHandler } from '../../../../../broker/kafka/apis/alter-configs.ts';
import type { AlterConfigsRequestAlterConfigsResource } from '../../../../../sdk/protocol/mod.ts';
import { ErrorCode, exchange, openBroker, versionsOf } from './admin-test-support.ts';

const TOPIC = 2;
const BROKER = 4;

function resource(resourceType: number, resourceName: string, configs: Record<string, string | null>): AlterConfigsRequestAlterConfigsResource {
  return { resourceType, resourceName, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) };
}

function alterConfigs(broker: Broker, version: number, resources: AlterConfigsRequestAlterConfigsResource[], validateOnly = false) {
  return exchange(alterConfigsHandler, broker, version, { resources, validateOnly });
}

function overrides(broker: Broker, name: string): Record<string, string> {
  return Object.fromEntries(broker.describeTopic(name).configs.filter((c) => !c.isDefault).map((c) => [c.name, c.value]));
}

describe.each(versionsOf(alterConfigsHandler))('AlterConfigs v%i', (version) => {
  it('replaces the whole override set of a topic', async () => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'retention.ms': '1000', 'segment.ms': '5000' } });
    const { wire } = await alterConfigs(broker, version, [resource(TOPIC, 't', { 'retention.ms': '2000', 'cleanup.policy': 'compact' })]);
    expect(wire.responses).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: 't' }]);
    expect(overrides(broker, 't')).toEqual({ 'retention.ms': '2000', 'cleanup.policy': 'compact' });
  });

  it('resets every override when given no configs', async () => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'retention.ms': '1000' } });
    const { wire } = await alterConfigs(broker, version, [resource(TOPIC, 't', {})]);
    expect(wire.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides(broker, 't')).toEqual({});
  });

  it('validateOnly checks without changing anything', async () => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'retention.ms': '1000' } });
    const ok = await alterConfigs(broker, version, [resource(TOPIC, 't', { 'segment.ms': '10' })], true);
    const bad = await alterConfigs(broker, version, [resource(TOPIC, 't', { 'segment.ms': '0' })], true);
    expect([ok.wire.responses[0]!.errorCode, bad.wire.responses[0]!.errorCode]).toEqual([ErrorCode.NONE, ErrorCode.INVALID_CONFIG]);
    expect(overrides(broker, 't')).toEqual({ 'retention.ms': '1000' });
  });

  it.each([
    ['a bad value', { 'retention.ms': 'forever' }, ErrorCode.INVALID_CONFIG, 'retention.ms must be an integer'],
    ['an unknown config', { 'no.such.config': '1' }, ErrorCode.INVALID_CONFIG, 'unknown topic config "no.such.config"'],
    ['a null value', { 'retention.ms': null }, ErrorCode.INVALID_REQUEST, 'null value'],
  ])('rejects %s and changes nothing', async (_, configs, errorCode, message) => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'segment.ms': '5000' } });
    const { wire } = await alterConfigs(broker, version, [resource(TOPIC, 't', { 'retention.ms': '10', ...configs })]);
    expect(wire.responses[0]!.errorCode).toBe(errorCode);
    expect(wire.responses[0]!.errorMessage).toContain(message);
    expect(overrides(broker, 't')).toEqual({ 'segment.ms': '5000' });
  });

  it('answers an unknown topic with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const broker = await openBroker();
    const { wire } = await alterConfigs(broker, version, [resource(TOPIC, 'missing', { 'retention.ms': '1' })]);
    expect(wire.responses[0]).toMatchObject({ resourceName: 'missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
  });

  it('rejects a duplicate config key and a resource named twice with INVALID_REQUEST', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    await broker.createTopic('u');
    const duplicateKey: AlterConfigsRequestAlterConfigsResource = {
      resourceType: TOPIC,
      resourceName: 't',
      configs: [
        { name: 'retention.ms', value: '1' },
        { name: 'retention.ms', value: '2' },
      ],
    };
    const { wire } = await alterConfigs(broker, version, [duplicateKey, resource(TOPIC, 'u', { 'retention.ms': '3' }), resource(TOPIC, 'u', {})]);
    expect(wire.responses.map((r) => [r.resourceName, r.errorCode])).toEqual([
      ['t', ErrorCode.INVALID_REQUEST],
      ['u', ErrorCode.INVALID_REQUEST],
    ]);
    expect(wire.responses[0]!.errorMessage).toContain('retention.ms');
    expect([overrides(broker, 't'), overrides(broker, 'u')]).toEqual([{}, {}]);
  });

  it('treats broker configs as read-only and rejects unsupported resource types', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const { wire } = await alterConfigs(broker, version, [
      resource(BROKER, '0', { 'num.partitions': '3' }),
      resource(BROKER, '', {}),
      resource(BROKER, '5', {}),
      resource(8, 'logger', {}),
      resource(TOPIC, 't', { 'retention.ms': '7' }),
    ]);
    expect(wire.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode])).toEqual([
      [BROKER, '0', ErrorCode.INVALID_REQUEST],
      [BROKER, '', ErrorCode.NONE],
      [BROKER, '5', ErrorCode.INVALID_REQUEST],
      [8, 'logger', ErrorCode.INVALID_REQUEST],
      [TOPIC, 't', ErrorCode.NONE],
    ]);
    expect(wire.responses[0]!.errorMessage).toContain('num.partitions');
    expect(overrides(broker, 't')).toEqual({ 'retention.ms': '7' });
  });
});
