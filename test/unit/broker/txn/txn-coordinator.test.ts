import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { defaultTxnConfig } from '../../../../broker/txn/txn-config.ts';
import { type TxnHost, TxnCoordinator, type TxnStore } from '../../../../broker/txn/txn-coordinator.ts';
import type { PendingOffset, TxnOffsetSink } from '../../../../broker/txn/txn-offset-sink.ts';
import type { TxnRecordValue } from '../../../../broker/txn/txn-record.ts';
import { canTransition, TXN_TRANSITIONS, TxnState, type TxnStateValue, transition } from '../../../../broker/txn/txn-state.ts';

/** An in-memory broker: markers and offset commits are recorded; the store keeps the last record per id. */
class FakeWorld implements TxnHost, TxnStore {
  now = 1_000;
  nextProducerId = 0;
  markers: { topic: string; partition: number; producerId: number; producerEpoch: number; type: string }[] = [];
  records = new Map<string, TxnRecordValue>();
  /** States written to the store, in order, per id. */
  history: { id: string; state: TxnStateValue | 'tombstone' }[] = [];
  committedOffsets: { groupId: string; offsets: PendingOffset[] }[] = [];
  failMarkers = false;
  failWrites = false;

  nowMs(): number {
    return this.now;
  }
  async allocateProducerId(): Promise<number> {
    return this.nextProducerId++;
  }
  partitionExists(topic: string, partition: number): boolean {
    return topic.startsWith('t') && partition >= 0 && partition < 3;
  }
  async writeMarker(topic: string, partition: number, producerId: number, producerEpoch: number, type: string): Promise<void> {
    if (this.failMarkers) throw new Error('marker write failed');
    this.markers.push({ topic, partition, producerId, producerEpoch, type });
  }
  async write(id: string, value: TxnRecordValue | null): Promise<void> {
    if (this.failWrites) throw new KafkaError('KAFKA_STORAGE_ERROR', '__transaction_state is offline');
    this.history.push({ id, state: value?.state ?? 'tombstone' });
    if (value === null) this.records.delete(id);
    else this.records.set(id, structuredClone(value));
  }
  async replay(): Promise<Map<string, TxnRecordValue>> {
    return new Map([...this.records].map(([k, v]) => [k, structuredClone(v)]));
  }
}

class FakeSink implements TxnOffsetSink {
  constructor(private readonly world: FakeWorld) {}
  checkMember(_groupId: string, generationId: number): number {
    return generationId === 99 ? ErrorCode.ILLEGAL_GENERATION : 0;
  }
  async commitOffsets(groupId: string, offsets: readonly PendingOffset[]): Promise<void> {
    this.world.committedOffsets.push({ groupId, offsets: [...offsets] });
  }
}

function coordinator(world: FakeWorld, config = {}): TxnCoordinator {
  const sink = new FakeSink(world);
  return new TxnCoordinator(world, world, { ...defaultTxnConfig, ...config }, () => sink);
}

describe('transaction state table', () => {
  it('allows exactly the listed transitions and asserts on any other', () => {
    const states = Object.values(TxnState);
    for (const from of states) {
      for (const to of states) {
        const holder = { transactionalId: 'x', state: from };
        if (TXN_TRANSITIONS[from].includes(to)) {
          transition(holder, to);
          expect(holder.state).toBe(to);
        } else {
          expect(() => transition(holder, to)).toThrow(/invariant/);
        }
      }
    }
    expect(canTransition('Ongoing', 'CompleteCommit')).toBe(false);
    expect(canTransition('Dead', 'Empty')).toBe(false);
  });
});

describe('TxnCoordinator', () => {
  it('runs a transaction: partitions and offsets added, markers to every partition on commit, offsets committed after them', async () => {
    const world = new FakeWorld();
    const c = coordinator(world);
    const { producerId, producerEpoch } = await c.initProducerId('app', 60_000);
    expect(await c.addPartitions('app', producerId, producerEpoch, [{ topic: 't1', partition: 0 }, { topic: 't2', partition: 2 }])).toEqual([
      { topic: 't1', partition: 0, errorCode: 0 },
      { topic: 't2', partition: 2, errorCode: 0 },
    ]);
    expect(await c.addOffsets('app', producerId, producerEpoch, 'g')).toBe(0);
    const offsets = [{ topic: 't1', partition: 1, offset: 42, leaderEpoch: -1, metadata: '' }];
    expect((await c.txnOffsetCommit({ transactionalId: 'app', groupId: 'g', producerId, producerEpoch, generationId: 99, memberId: 'm', groupInstanceId: null, offsets }))[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await c.txnOffsetCommit({ transactionalId: 'app', groupId: 'g', producerId, producerEpoch, generationId: -1, memberId: '', groupInstanceId: null, offsets }))[0]!.errorCode).toBe(0);
    expect(world.committedOffsets).toEqual([]);
    expect(await c.endTxn('app', producerId, producerEpoch, true)).toBe(0);
    expect(world.markers.map((m) => `${m.topic}-${m.partition}:${m.type}`).sort()).toEqual(['t1-0:COMMIT', 't2-2:COMMIT']);
    expect(world.committedOffsets).toEqual([{ groupId: 'g', offsets }]);
    expect(world.history.map((h) => h.state)).toEqual(['Empty', 'Ongoing', 'Ongoing', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    expect(await c.endTxn('app', producerId, producerEpoch, true)).toBe(0);
    expect(await c.endTxn('app', producerId, producerEpoch, false)).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('persists TxnOffsetCommit offsets before answering, so a restart between them and EndTxn commits them', async () => {
    const world = new FakeWorld();
    const first = coordinator(world);
    const { producerId, producerEpoch } = await first.initProducerId('app', 60_000);
    await first.addPartitions('app', producerId, producerEpoch, [{ topic: 't1', partition: 0 }]);
    expect(await first.addOffsets('app', producerId, producerEpoch, 'g')).toBe(0);
    const offsets = [
      { topic: 't1', partition: 1, offset: 42, leaderEpoch: -1, metadata: 'm' },
      { topic: 't2', partition: 0, offset: 7, leaderEpoch: -1, metadata: '' },
    ];
    const commit = (c: TxnCoordinator, o: PendingOffset[]) =>
      c.txnOffsetCommit({ transactionalId: 'app', groupId: 'g', producerId, producerEpoch, generationId: -1, memberId: '', groupInstanceId: null, offsets: o });
    expect((await commit(first, offsets)).map((r) => r.errorCode)).toEqual([0, 0]);
    expect(world.records.get('app')!.groups).toEqual([{ groupId: 'g', offsets }]);
    expect(first.pendingOffsetPartitions('g')).toEqual([{ topic: 't1', partition: 1 }, { topic: 't2', partition: 0 }]);

    // The broker dies here; the client retries EndTxn against the restarted one.
    const restarted = coordinator(world);
    await restarted.load();
    expect(restarted.pendingOffsetPartitions('g')).toHaveLength(2);
    expect(await restarted.endTxn('app', producerId, producerEpoch, true)).toBe(0);
    expect(world.committedOffsets).toEqual([{ groupId: 'g', offsets }]);
    expect(restarted.pendingOffsetPartitions('g')).toEqual([]);
  });

  it('answers TxnOffsetCommit COORDINATOR_NOT_AVAILABLE and keeps the earlier offsets when the write fails', async () => {
    const world = new FakeWorld();
    const c = coordinator(world);
    const { producerId, producerEpoch } = await c.initProducerId('app', 60_000);
    expect(await c.addOffsets('app', producerId, producerEpoch, 'g')).toBe(0);
    const commit = (offset: number) =>
      c.txnOffsetCommit({ transactionalId: 'app', groupId: 'g', producerId, producerEpoch, generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic: 't1', partition: 0, offset, leaderEpoch: -1, metadata: '' }] });
    expect((await commit(5))[0]!.errorCode).toBe(0);
    world.failWrites = true;
    expect((await commit(9))[0]!.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    world.failWrites = false;
    expect(await c.endTxn('app', producerId, producerEpoch, true)).toBe(0);
    expect(world.committedOffsets).toEqual([{ groupId: 'g', offsets: [{ topic: 't1', partition: 0, offset: 5, leaderEpoch: -1, metadata: '' }] }]);
  });

  it('validates the transaction timeout against the configured maximum', async () => {
    const c = coordinator(new FakeWorld(), { maxTimeoutMs: 1000 });
    expect((await c.initProducerId('a', 1001)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await c.initProducerId('a', 0)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await c.initProducerId('a', 1000)).errorCode).toBe(0);
  });

  it('completes a transaction logged as PrepareCommit when it restarts, and aborts an Ongoing one at its timeout', async () => {
    const world = new FakeWorld();
    const first = coordinator(world);
    const a = await first.initProducerId('a', 5_000);
    await first.addPartitions('a', a.producerId, a.producerEpoch, [{ topic: 't', partition: 1 }]);
    const b = await first.initProducerId('b', 5_000);
    await first.addPartitions('b', b.producerId, b.producerEpoch, [{ topic: 't', partition: 2 }]);
    world.failMarkers = true;
    expect(await first.endTxn('a', a.producerId, a.producerEpoch, true)).toBe(0);
    expect(world.records.get('a')!.state).toBe('PrepareCommit');
    world.failMarkers = false;

    const restarted = coordinator(world);
    await restarted.load();
    expect(restarted.describe('a')!.state).toBe('CompleteCommit');
    expect(world.markers).toEqual([{ topic: 't', partition: 1, producerId: a.producerId, producerEpoch: a.producerEpoch, type: 'COMMIT' }]);
    await restarted.runTimers();
    expect(restarted.describe('b')!.state).toBe('Ongoing');
    world.now += 5_001;
    await restarted.runTimers();
    expect(restarted.describe('b')!.state).toBe('CompleteAbort');
    expect(world.markers.at(-1)).toEqual({ topic: 't', partition: 2, producerId: b.producerId, producerEpoch: b.producerEpoch + 1, type: 'ABORT' });
    expect(await restarted.endTxn('b', b.producerId, b.producerEpoch, true)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  /**
   * Model-based: random operations from two producer instances sharing one transactional id
   * (a zombie and its successor), checked against a model of the protocol. The model tracks the
   * current epoch, the state, and which partitions are open; markers must match it exactly.
   */
  it('agrees with a model over random operation sequences', async () => {
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('init' as const), who: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ kind: fc.constant('add' as const), who: fc.integer({ min: 0, max: 1 }), partition: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('end' as const), who: fc.integer({ min: 0, max: 1 }), commit: fc.boolean() }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
      fc.record({ kind: fc.constant('restart' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const world = new FakeWorld();
        let c = coordinator(world);
        const TIMEOUT = 2_000;
        const clients: ({ producerId: number; producerEpoch: number } | undefined)[] = [undefined, undefined];
        const model = { exists: false, epoch: -1, state: 'Empty' as string, partitions: new Set<number>(), startMs: -1 };
        const expectedMarkers: string[] = [];
        const abortOpen = (epoch: number) => {
          for (const p of [...model.partitions].sort()) expectedMarkers.push(`${p}:ABORT:${epoch}`);
          model.partitions.clear();
        };
        for (const op of ops) {
          if (op.kind === 'init') {
            const r = await c.initProducerId('id', TIMEOUT);
            expect(r.errorCode).toBe(0);
            if (!model.exists) {
              model.exists = true;
              model.epoch = 0;
            } else {
              model.epoch++;
              if (model.state === 'Ongoing') abortOpen(model.epoch);
            }
            model.state = 'Empty';
            expect(r.producerEpoch).toBe(model.epoch);
            clients[op.who] = { producerId: r.producerId, producerEpoch: r.producerEpoch };
          } else if (op.kind === 'add' || op.kind === 'end') {
            const client = clients[op.who];
            if (client === undefined) continue;
            const fenced = client.producerEpoch !== model.epoch;
            if (op.kind === 'add') {
              const partition = op.partition;
              const [r] = await c.addPartitions('id', client.producerId, client.producerEpoch, [{ topic: 't', partition }]);
              if (fenced) expect(r!.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
              else if (partition >= 3) expect(r!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
              else {
                expect(r!.errorCode).toBe(0);
                if (model.state !== 'Ongoing') model.startMs = world.now;
                model.state = 'Ongoing';
                model.partitions.add(partition);
              }
            } else {
              const code = await c.endTxn('id', client.producerId, client.producerEpoch, op.commit);
              if (fenced) expect(code).toBe(ErrorCode.PRODUCER_FENCED);
              else if (model.state === 'Ongoing') {
                expect(code).toBe(0);
                for (const p of [...model.partitions].sort()) expectedMarkers.push(`${p}:${op.commit ? 'COMMIT' : 'ABORT'}:${model.epoch}`);
                model.partitions.clear();
                model.state = op.commit ? 'CompleteCommit' : 'CompleteAbort';
              } else if ((model.state === 'CompleteCommit' && op.commit) || (model.state === 'CompleteAbort' && !op.commit)) expect(code).toBe(0);
              else expect(code).toBe(ErrorCode.INVALID_TXN_STATE);
            }
          } else if (op.kind === 'tick') {
            world.now += op.ms;
            await c.runTimers();
            if (model.state === 'Ongoing' && world.now - model.startMs > TIMEOUT) {
              model.epoch++;
              abortOpen(model.epoch);
              model.state = 'CompleteAbort';
            }
          } else {
            await c.close();
            c = coordinator(world);
            await c.load();
          }
          if (model.exists) {
            expect(c.describe('id')!.state).toBe(model.state);
            expect(c.describe('id')!.producerEpoch).toBe(model.epoch);
          }
          expect(world.markers.map((m) => `${m.partition}:${m.type}:${m.producerEpoch}`).sort()).toEqual([...expectedMarkers].sort());
        }
      }),
      { numRuns: 200 },
    );
  });

  it('answers a retried epoch bump (KIP-360) with the current id and epoch, also after a restart, and fences anything else', async () => {
    const world = new FakeWorld();
    let c = coordinator(world);
    const first = await c.initProducerId('r', 60_000);
    const bumped = await c.initProducerId('r', 60_000, first.producerId, first.producerEpoch);
    expect(bumped).toEqual({ errorCode: 0, producerId: first.producerId, producerEpoch: first.producerEpoch + 1 });
    // The answer was lost: the producer retries with what it had.
    expect(await c.initProducerId('r', 60_000, first.producerId, first.producerEpoch)).toEqual(bumped);
    expect(c.describe('r')!.producerEpoch).toBe(bumped.producerEpoch);

    c = coordinator(world);
    await c.load();
    expect(await c.initProducerId('r', 60_000, first.producerId, first.producerEpoch)).toEqual(bumped);
    expect((await c.initProducerId('r', 60_000, first.producerId, first.producerEpoch + 7)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await c.initProducerId('r', 60_000, first.producerId + 1, first.producerEpoch)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);

    // Once the bumped producer has begun a transaction, the old epoch is a zombie's.
    expect((await c.addPartitions('r', bumped.producerId, bumped.producerEpoch, [{ topic: 't', partition: 0 }]))[0]!.errorCode).toBe(0);
    expect((await c.initProducerId('r', 60_000, first.producerId, first.producerEpoch)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(c.describe('r')!.state).toBe('Ongoing');
    expect(world.markers).toEqual([]);
  });
});
