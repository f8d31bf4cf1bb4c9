import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Broker } from '../../../../broker/broker.ts';
import type { GroupCoordinator } from '../../../../broker/group/group-coordinator.ts';
import type { GroupCoordinatorOpenOptions } from '../../../../broker/group/group-options.ts';
import type { FileSystem } from '../../../../broker/log/file-system.ts';
import type { JoinGroupInput, JoinGroupResult, ProtocolMetadata } from '../../../../broker/group/group-types.ts';
import { ErrorCode } from '../../../../sdk/protocol/error-codes.ts';
import { encodeConsumerProtocolSubscription } from '../../../../sdk/protocol/messages/consumer-protocol-subscription.ts';
import { Writer } from '../../../../sdk/protocol/writer.ts';
import { ManualScheduler, type ManualSchedulerOptions } from './manual-scheduler.ts';

export const SESSION_MS = 1_000;
export const REBALANCE_MS = 5_000;

/** A broker in a fresh temp dir whose group coordinator runs on a manual clock. */
export class GroupFixture {
  readonly scheduler: ManualScheduler;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'rill-groups-'));
  broker!: Broker;
  /** The filesystem the next open uses; the real one when undefined. */
  fs: FileSystem | undefined;

  constructor(
    readonly options: GroupCoordinatorOpenOptions = {},
    schedulerOptions: ManualSchedulerOptions = {},
  ) {
    this.scheduler = new ManualScheduler(schedulerOptions);
  }

  async open(options: GroupCoordinatorOpenOptions = {}): Promise<Broker> {
    this.broker = await Broker.open({
      config: { dataDir: this.dataDir },
      ...(this.fs === undefined ? {} : { fs: this.fs }),
      clock: { nowMs: () => this.scheduler.nowMs() },
      groups: { scheduler: this.scheduler, minSessionTimeoutMs: 100, initialRebalanceDelayMs: 0, ...this.options, ...options },
    });
    return this.broker;
  }

  async reopen(options: GroupCoordinatorOpenOptions = {}): Promise<Broker> {
    await this.broker.close();
    return this.open(options);
  }

  get groups() {
    return this.broker.groups;
  }

  async dispose(): Promise<void> {
    await this.broker?.close().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Consumer-protocol subscription metadata (int16 version, then the v0 body), as kafkajs sends it. */
export function subscription(topics: string[]): Uint8Array {
  const w = new Writer(64);
  w.writeInt16(0);
  encodeConsumerProtocolSubscription(w, 0, { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null });
  return w.finish().slice();
}

export function protocols(...names: string[]): ProtocolMetadata[] {
  return names.map((name) => ({ name, metadata: subscription(['orders']) }));
}

export function joinInput(groupId: string, overrides: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId,
    memberId: '',
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '127.0.0.1',
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_MS,
    protocolType: 'consumer',
    protocols: protocols('range'),
    requireKnownMemberId: false,
    ...overrides,
  };
}

/** Whether a promise has settled, after letting pending microtasks and I/O callbacks run. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

export type Join = Promise<JoinGroupResult>;

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Joins a new member into `groupId` and waits for it to be part of a settled (Stable) generation alone or with others. */
export async function joinAlone(groups: GroupCoordinator, groupId: string, overrides: Partial<JoinGroupInput> = {}): Promise<JoinGroupResult> {
  const result = await groups.joinGroup(joinInput(groupId, overrides));
  expect(result.errorCode).toBe(ErrorCode.NONE);
  return result;
}

export function heartbeat(groups: GroupCoordinator, groupId: string, r: JoinGroupResult, instanceId: string | null = null): number {
  return groups.heartbeat({ groupId, generationId: r.generationId, memberId: r.memberId, groupInstanceId: instanceId });
}

export async function sync(groups: GroupCoordinator, groupId: string, r: JoinGroupResult, assignments: { memberId: string; assignment: Uint8Array }[] = []) {
  return groups.syncGroup({
    groupId,
    generationId: r.generationId,
    memberId: r.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments,
  });
}

/** Two members A (leader) and B in a Stable generation. */
export async function stablePair(f: GroupFixture, groupId = 'g') {
  const groups = f.groups;
  const a1 = await joinAlone(groups, groupId, { clientId: 'a' });
  const bJoin = groups.joinGroup(joinInput(groupId, { clientId: 'b' }));
  expect(heartbeat(groups, groupId, a1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  const aJoin = groups.joinGroup(joinInput(groupId, { clientId: 'a', memberId: a1.memberId }));
  const [a, b] = await Promise.all([aJoin, bJoin]);
  const aSync = sync(groups, groupId, a, [
    { memberId: a.memberId, assignment: bytes('A') },
    { memberId: b.memberId, assignment: bytes('B') },
  ]);
  const bSync = sync(groups, groupId, b);
  await Promise.all([aSync, bSync]);
  expect(groups.describeGroups([groupId])[0]!.groupState).toBe('Stable');
  return { a, b };
}
