import type { Broker } from '../../../broker/broker.ts';
import type { TrackedKafkaListener } from '../../helpers/tracked-kafka-listener.ts';
import { type ChurnScenario, churnScenarios } from './kafkajs-churn-scenarios.ts';
import { DISCONNECT_BOUND_MS, ScenarioContext } from './kafkajs-suite-clients.ts';

export interface ScenarioOutcome {
  name: string;
  elapsedMs: number;
  /** Undefined when the scenario finished within the bound and its checks held. */
  failure: string | undefined;
}

export interface ChurnTarget {
  broker: Broker;
  listener: TrackedKafkaListener;
  /** Creates a scenario's fresh topic. */
  createTopic(topic: string, partitions: number): Promise<void>;
}

/**
 * Runs one scenario on a fresh topic and group. A run still going after `stallMs` is a stall: the
 * outcome then says what the broker was still answering (requests in flight, oldest first), what
 * state the group was in, and the clients' last log lines.
 */
export async function runScenario(target: ChurnTarget, scenario: ChurnScenario, stallMs: number): Promise<ScenarioOutcome> {
  const ctx = new ScenarioContext(target.listener.bootstrap);
  const startMs = Date.now();
  try {
    await target.createTopic(ctx.topic, scenario.partitions);
  } catch (error) {
    return { name: scenario.name, elapsedMs: Date.now() - startMs, failure: `creating its topic failed: ${String(error)}\n${describeState(target, ctx)}` };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`stalled: not finished after ${stallMs} ms\n${describeState(target, ctx)}`), stallMs);
  });
  const finished = scenario.run(ctx).then(
    () => undefined,
    (error: unknown) => `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  const failure = await Promise.race([finished, stalled]);
  clearTimeout(timer);
  const elapsedMs = Date.now() - startMs;
  const disconnected = await ctx.disconnectAll();
  let report = failure ?? (disconnected ? undefined : `clients did not disconnect within ${DISCONNECT_BOUND_MS} ms\n${describeState(target, ctx)}`);
  if (failure !== undefined && !failure.startsWith('stalled')) report += `\n${describeState(target, ctx)}`;
  return { name: scenario.name, elapsedMs, failure: report };
}

/** What the broker and the clients were doing: the group's state, requests not yet answered, errors, the clients' last log lines. */
function describeState(target: ChurnTarget, ctx: ScenarioContext): string {
  let group: string;
  try {
    const g = target.broker.groups.describeGroup(ctx.groupId);
    group = `group ${g.groupId}: ${g.state}, generation ${g.generationId}, leader ${g.leaderId || '-'}, members [${g.members.map((m) => m.memberId).join(', ')}]`;
  } catch (error) {
    group = `group ${ctx.groupId}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return [
    group,
    'requests in flight for 1 s or more:',
    ...target.listener.describeInFlight(1_000).map((line) => `  ${line}`),
    'connections the broker closed on an error:',
    ...target.listener.connectionErrors.slice(-5).map((line) => `  ${line}`),
    'client log:',
    ...ctx.log.slice(-40).map((line) => `  ${line}`),
  ].join('\n');
}

/**
 * `lanes` sequences of runs at once, each going through every scenario `rounds` times in its own
 * rotated order, so different scenarios' joins, leaves, long polls and commits overlap.
 */
export async function runLanes(
  target: ChurnTarget,
  options: { lanes: number; rounds: number; stallMs: number; onOutcome?: (outcome: ScenarioOutcome) => void },
): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const lane = async (index: number): Promise<void> => {
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < churnScenarios.length; i++) {
        const outcome = await runScenario(target, churnScenarios[(i + index) % churnScenarios.length]!, options.stallMs);
        outcomes.push(outcome);
        options.onOutcome?.(outcome);
      }
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, i) => lane(i)));
  return outcomes;
}
