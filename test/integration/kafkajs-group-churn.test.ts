import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import type { GroupCoordinatorOpenOptions } from '../../broker/group/group-options.ts';
import { TrackedKafkaListener } from '../helpers/tracked-kafka-listener.ts';
import { churnScenarios } from './consumer-groups/kafkajs-churn-scenarios.ts';
import { type ChurnTarget, runLanes, runScenario, type ScenarioOutcome } from './consumer-groups/kafkajs-churn.ts';

/*
 * Many short-lived kafkajs groups against one broker, the way kafkajs's own consumer suite runs:
 * each run a fresh topic and group, 100 ms long polls, clients disconnecting at the end, joins and
 * leaves racing fetches, commits, idempotent and transactional produces. A run that does not
 * finish within STALL_MS is reported with the requests the broker had not answered and the
 * group's state.
 *
 * RILL_GROUPS_SOAK=1 adds the long tier: RILL_GROUPS_SOAK_ROUNDS rounds (default 20) of every
 * scenario in RILL_GROUPS_SOAK_LANES parallel lanes (default 6), with the broker's default
 * initial rebalance delay unless RILL_GROUPS_SOAK_DELAY_MS sets one. It prints the counts.
 */
const STALL_MS = 20_000;
/** Short, so the tier stays quick, but not zero: the barrier's delay timer is what stalled. */
const SHORT_TIER_DELAY_MS = 200;
const soak = process.env.RILL_GROUPS_SOAK === '1';

interface Harness extends ChurnTarget {
  close(): Promise<void>;
}

async function startHarness(groups: GroupCoordinatorOpenOptions): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-churn-'));
  const broker = await Broker.open({ config: { dataDir }, groups });
  const listener = await TrackedKafkaListener.start(broker);
  const admin: Admin = new Kafka({ clientId: 'churn-admin', brokers: [listener.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return {
    broker,
    listener,
    async createTopic(topic, partitions) {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
    },
    async close() {
      await admin.disconnect();
      await listener.close();
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function failures(outcomes: readonly ScenarioOutcome[]): string[] {
  return outcomes.filter((o) => o.failure !== undefined).map((o) => `${o.name} (${o.elapsedMs} ms): ${o.failure}`);
}

describe('short-lived kafkajs groups', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ initialRebalanceDelayMs: SHORT_TIER_DELAY_MS });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('runs every scenario in sequence, each group forming, consuming and leaving in turn', async () => {
    const outcomes: ScenarioOutcome[] = [];
    for (const scenario of churnScenarios) outcomes.push(await runScenario(harness, scenario, STALL_MS));
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes).toHaveLength(churnScenarios.length);
  });

  it('runs every scenario in three parallel lanes, each lane in its own order', async () => {
    const outcomes = await runLanes(harness, { lanes: 3, rounds: 1, stallMs: STALL_MS });
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes).toHaveLength(3 * churnScenarios.length);
  });
});

describe.runIf(soak)('short-lived kafkajs groups, soak (RILL_GROUPS_SOAK=1)', () => {
  it('never stalls a group across many runs in parallel lanes', async () => {
    const rounds = Number(process.env.RILL_GROUPS_SOAK_ROUNDS ?? 20);
    const lanes = Number(process.env.RILL_GROUPS_SOAK_LANES ?? 6);
    const delay = process.env.RILL_GROUPS_SOAK_DELAY_MS;
    // Every run leaves a group holding its committed offsets; the broker's bound on groups must fit them all.
    const maxGroups = rounds * lanes * churnScenarios.length + 1_000;
    const harness = await startHarness({ maxGroups, ...(delay === undefined ? {} : { initialRebalanceDelayMs: Number(delay) }) });
    try {
      const startMs = Date.now();
      let done = 0;
      const outcomes = await runLanes(harness, {
        lanes,
        rounds,
        stallMs: STALL_MS,
        onOutcome: (outcome) => {
          done++;
          if (outcome.failure !== undefined) console.log(`FAILED ${outcome.name} after ${outcome.elapsedMs} ms\n${outcome.failure}`);
          if (done % 100 === 0) console.log(`${done} runs, ${harness.listener.connectionCount} connections open, ${Math.round((Date.now() - startMs) / 1000)} s`);
        },
      });
      const failed = failures(outcomes);
      console.log(`soak: ${outcomes.length} runs (${lanes} lanes x ${rounds} rounds x ${churnScenarios.length} scenarios), ${failed.length} failed, ${Math.round((Date.now() - startMs) / 1000)} s`);
      expect(failed).toEqual([]);
    } finally {
      await harness.close();
    }
  }, 24 * 3_600_000);
});
