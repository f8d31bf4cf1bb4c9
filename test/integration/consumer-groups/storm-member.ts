import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/child-process.ts';

const WORKER = join(repoRoot, 'test/integration/consumer-groups/storm-worker.mjs');

/** A record processed again, with the highest offset any member had committed for its partition when it was seen. */
export interface Reprocessed {
  member: number;
  partition: number;
  offset: number;
  committedOffset: number;
}

/**
 * What the storm group did, built from its members' stdout: every record processed, the commits the
 * broker accepted, and records processed more than once. Members report through `StormMember`; the
 * test awaits conditions on this ledger instead of waiting for time to pass.
 */
export class StormLedger {
  /** partition → offset → value, for every record processed at least once. */
  readonly processed: Map<number, string>[];
  /** partition → the highest offset a commit accepted by the broker pointed at. */
  readonly committed: number[];
  readonly reprocessed: Reprocessed[] = [];
  distinct = 0;
  private waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  constructor(readonly partitions: number) {
    this.processed = Array.from({ length: partitions }, () => new Map());
    this.committed = new Array<number>(partitions).fill(0);
  }

  recordProcessed(member: number, partition: number, offset: number, value: string): void {
    const seen = this.processed[partition]!;
    const previous = seen.get(offset);
    if (previous === undefined) {
      seen.set(offset, value);
      this.distinct++;
      return;
    }
    if (previous !== value) throw new Error(`invariant: ${partition}/${offset} was ${previous} and is now ${value}`);
    this.reprocessed.push({ member, partition, offset, committedOffset: this.committed[partition]! });
  }

  recordCommit(partition: number, offset: number): void {
    this.committed[partition] = Math.max(this.committed[partition]!, offset);
  }

  /** Resolves once `predicate` holds; checked after every chunk of member output and every member exit. */
  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  changed(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.resolve();
      return false;
    });
  }
}

/** One storm-worker.mjs process in the group, its output parsed into the shared ledger as it arrives. */
export class StormMember {
  readonly child: ChildProcess;
  assignments = 0;
  /** The partitions of this member's latest assignment. */
  assigned: number[] = [];
  /**
   * The run of records this member processed last on one partition with no other line since (no
   * commit, assignment or other partition): when it was killed mid-batch, its uncommitted work.
   */
  tail: { partition: number; offsets: number[] } = { partition: -1, offsets: [] };
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';

  constructor(
    readonly index: number,
    private readonly ledger: StormLedger,
    args: { bootstrap: string; topic: string; groupId: string; sessionTimeoutMs: number; workIterations: number },
  ) {
    this.child = spawn(process.execPath, [WORKER, args.bootstrap, args.topic, args.groupId, String(args.sessionTimeoutMs), String(args.workIterations)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.consume(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    // A member killed mid-write of a command has a closed stdin; the exit is what the test awaits.
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        resolve({ code, signal });
        this.ledger.changed();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Has the member SIGKILL itself at its next record that leaves a batch's work uncommitted. */
  killMidBatch(): void {
    this.child.stdin!.write('kill\n');
  }

  private consume(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      const [kind, a, b, c] = line.split(' ');
      if (kind === 'p') {
        const partition = Number(a);
        const offset = Number(b);
        this.ledger.recordProcessed(this.index, partition, offset, c!);
        if (this.tail.partition !== partition) this.tail = { partition, offsets: [] };
        this.tail.offsets.push(offset);
      } else if (kind === 'c') {
        this.ledger.recordCommit(Number(a), Number(b));
        this.tail = { partition: -1, offsets: [] };
      } else if (kind === 'assigned') {
        this.assignments++;
        this.assigned = JSON.parse(a!) as number[];
        this.tail = { partition: -1, offsets: [] };
      }
    }
    this.ledger.changed();
  }
}
