import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { incrementalAlterConfigsHandler } from '../../../../../broker/kafka/apis/incremental-alter-configs.ts';
import type { IncrementalAlterConfigsRequestAlterConfigsResource } from '../../../../../sdk/protocol/mod.ts';
import { ErrorCode, exchange, openBroker, versionsOf } from './admin-test-support.ts';

const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

type Op = [name: string, operation: number, value: string | null];

function resource(resourceName: string, ops: Op[], resourceType = TOPIC): IncrementalAlterConfigsRequestAlterConfigsResource {
  return { resourceType, resourceName, configs: ops.map(([name, configOperation, value]) => ({ name, configOperation, value })) };
}

function alter(broker: Broker, version: number, resources: IncrementalAlterConfigsRequestAlterConfigsResource[], validateOnly = false) {
  return exchange(incrementalAlterConfigsHandler, broker, version, { resources, validateOnly });
}

function overrides(broker: Broker, name: string): Record<string, string> {
  return Object.fromEntries(broker.describeTopic(name).configs.filter((c) => !c.isDefault).map((c) => [c.name, c.value]));
}

describe.each(versionsOf(incrementalAlterConfigsHandler))('IncrementalAlterConfigs v%i', (version) => {
  it('SETs and DELETEs configs, leaving the others alone', async () => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'retention.ms': '1000', 'segment.ms': '5000' } });
    const { wire } = await alter(broker, version, [
      resource('t', [
        ['retention.bytes', SET, '4096'],
        ['retention.ms', DELETE, null],
      ]),
    ]);
    expect(wire.responses).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: 't' }]);
    expect(overrides(broker, 't')).toEqual({ 'retention.bytes': '4096', 'segment.ms': '5000' });
  });

  it('turns the boolean rill.delayed.delivery on and back to its default, false', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const on = await alter(broker, version, [resource('t', [['rill.delayed.delivery', SET, 'TRUE']])]);
    expect(on.wire.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides(broker, 't')).toEqual({ 'rill.delayed.delivery': 'true' });
    expect(broker.topicLayout('t').config.delayedDelivery).toBe(true);
    await alter(broker, version, [resource('t', [['rill.delayed.delivery', DELETE, null]])]);
    expect(broker.topicLayout('t').config.delayedDelivery).toBe(false);
    expect(broker.describeTopic('t').configs.find((c) => c.name === 'rill.delayed.delivery')).toEqual({ name: 'rill.delayed.delivery', value: 'false', isDefault: true });
  });

  it('APPENDs to and SUBTRACTs from the list config cleanup.policy, starting from its default', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const appended = await alter(broker, version, [resource('t', [['cleanup.policy', APPEND, 'compact,delete']])]);
    expect(appended.wire.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides(broker, 't')).toEqual({ 'cleanup.policy': 'compact,delete' });
    const subtracted = await alter(broker, version, [resource('t', [['cleanup.policy', SUBTRACT, 'delete']])]);
    expect(subtracted.wire.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides(broker, 't')).toEqual({ 'cleanup.policy': 'compact' });
  });

  it.each<[string, Op, number, string]>([
    ['APPEND to a non-list config', ['retention.ms', APPEND, '5'], ErrorCode.INVALID_REQUEST, 'not a list config'],
    ['SUBTRACT from a non-list config', ['segment.bytes', SUBTRACT, '5'], ErrorCode.INVALID_REQUEST, 'not a list config'],
    ['APPEND to an unknown config', ['no.such.config', APPEND, 'x'], ErrorCode.INVALID_CONFIG, 'no.such.config'],
    ['SUBTRACT that empties the list', ['cleanup.policy', SUBTRACT, 'delete'], ErrorCode.INVALID_CONFIG, 'cleanup.policy'],
    ['an unknown operation', ['retention.ms', 7, '5'], ErrorCode.INVALID_REQUEST, 'operation 7'],
    ['SET with a null value', ['retention.ms', SET, null], ErrorCode.INVALID_REQUEST, 'null value'],
    ['SET to a bad value', ['segment.bytes', SET, '12'], ErrorCode.INVALID_CONFIG, 'segment.bytes must be an integer'],
    ['SET of an unknown config', ['no.such.config', SET, '1'], ErrorCode.INVALID_CONFIG, 'unknown topic config'],
    ['SET of a boolean config to a non-boolean', ['rill.delayed.delivery', SET, 'yes'], ErrorCode.INVALID_CONFIG, 'rill.delayed.delivery must be "true" or "false"'],
  ])('rejects %s and changes nothing', async (_, op, errorCode, message) => {
    const broker = await openBroker();
    await broker.createTopic('t', { config: { 'segment.ms': '5000' } });
    const { wire } = await alter(broker, version, [resource('t', [['retention.bytes', SET, '10'], op])]);
    expect(wire.responses[0]!.errorCode).toBe(errorCode);
    expect(wire.responses[0]!.errorMessage).toContain(message);
    expect(overrides(broker, 't')).toEqual({ 'segment.ms': '5000' });
  });

  it('rejects a config key given twice with INVALID_REQUEST', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const { wire } = await alter(broker, version, [
      resource('t', [
        ['retention.ms', SET, '10'],
        ['retention.ms', DELETE, null],
      ]),
    ]);
    expect(wire.responses[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(overrides(broker, 't')).toEqual({});
  });

  it('validateOnly checks without changing anything', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const { wire } = await alter(broker, version, [resource('t', [['cleanup.policy', APPEND, 'compact']])], true);
    expect(wire.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(overrides(broker, 't')).toEqual({});
  });

  it('answers unknown topics, broker configs and unsupported resource types per resource', async () => {
    const broker = await openBroker();
    await broker.createTopic('t');
    const { wire } = await alter(broker, version, [
      resource('missing', [['retention.ms', SET, '1']]),
      resource('missing-list', [['cleanup.policy', APPEND, 'compact']]),
      resource('0', [['num.partitions', SET, '2']], BROKER),
      resource('x', [], 16),
      resource('t', [['retention.ms', SET, '1']]),
    ]);
    expect(wire.responses.map((r) => [r.resourceName, r.errorCode])).toEqual([
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['missing-list', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['0', ErrorCode.INVALID_REQUEST],
      ['x', ErrorCode.INVALID_REQUEST],
      ['t', ErrorCode.NONE],
    ]);
    expect(overrides(broker, 't')).toEqual({ 'retention.ms': '1' });
  });
});
