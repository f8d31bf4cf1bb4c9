/**
 * What a crash costs a stateful job: a count per key over --keys distinct keys (one store entry
 * each) runs as a process against a broker process until a snapshot covers its store, then takes
 * --tail more updates, then is SIGKILLed and started again. The restart loads the snapshot and
 * replays only the changelog written since: the bench prints records replayed against keys held
 * and the time until the job runs again.
 *
 *   npm run build && node dist/bench/streams-restore.js [--keys 1000000] [--tail 50000] [--partitions 4]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin, Producer, stringSerde, TcpTransport } from '../sdk/mod.ts';
import { printTable, runtimeName } from './report.ts';
import { startRillBroker } from './peers/rill-broker-process.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    tail: { type: 'string', default: '50000' },
    partitions: { type: 'string', default: '4' },
  },
});
const KEYS = Number(values.keys);
const TAIL = Number(values.tail);
const PARTITIONS = Number(values.partitions);
const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '../../' : '../', import.meta.url));
const CHANGELOG = 'restore-bench-restore-counts-changelog';

interface Job {
  child: ChildProcess;
  running: Promise<{ tasks: { taskId: string; restoredRecords: number }[] }>;
}

function startJob(bootstrap: string, stateDir: string): Job {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'streams-restore-job.js'), bootstrap, stateDir, '2000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const running = new Promise<{ tasks: { taskId: string; restoredRecords: number }[] }>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('running '));
      if (line !== undefined) resolve(JSON.parse(line.slice('running '.length)));
    });
    child.once('exit', (code) => reject(new Error(`the job exited with ${code} before running`)));
  });
  running.catch(() => undefined);
  return { child, running };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** The changelog offsets the newest snapshot of each partition covers (from the file names). */
function snapshotOffsets(stateDir: string): number[] {
  const appDir = join(stateDir, 'restore-bench');
  if (!existsSync(appDir)) return [];
  return readdirSync(appDir)
    .filter((task) => /^\d+_\d+$/.test(task))
    .map((task) => {
      const dir = join(appDir, task, 'restore-counts');
      if (!existsSync(dir)) return 0;
      return Math.max(0, ...readdirSync(dir).filter((f) => f.endsWith('.snapshot')).map((f) => Number(f.slice(0, 20))));
    });
}

const dir = mkdtempSync(join(tmpdir(), 'rill-bench-restore-'));
const { server, bootstrap } = await startRillBroker(join(dir, 'broker'));
const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
const stateDir = join(dir, 'state');
let job: Job | undefined;
try {
  const admin = new Admin(transport);
  await admin.createTopics([{ name: 'restore-in', numPartitions: PARTITIONS }]);
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, lingerMs: 5 });
  const send = async (from: number, count: number, keyOf: (i: number) => string): Promise<void> => {
    for (let at = from; at < from + count; at += 50_000) {
      await producer.sendBatch(Array.from({ length: Math.min(50_000, from + count - at) }, (_, i) => ({ topic: 'restore-in', key: keyOf(at + i), value: 'x' })));
    }
  };
  const caughtUp = async (): Promise<boolean> => {
    const lag = await admin.groupLag('restore-bench', ['restore-in']).catch(() => undefined);
    return lag !== undefined && lag.length === PARTITIONS && lag.every((p) => p.committedOffset >= 0 && p.lag === 0);
  };
  await send(0, KEYS, (i) => `k${i}`);
  job = startJob(bootstrap, stateDir);
  await job.running;
  await until(caughtUp);
  // A snapshot covering every key: keep commits coming (one record per partition) until one is written.
  const loadedEnd = (await admin.topicOffsets(CHANGELOG, 1)).reduce((sum, p) => sum + p.latest, 0);
  let trickle = 0;
  await until(async () => {
    if (snapshotOffsets(stateDir).reduce((a, b) => a + b, 0) >= loadedEnd) return true;
    await send(0, PARTITIONS, () => `k${trickle++ % KEYS}`);
    return false;
  });
  await send(0, TAIL, (i) => `k${(i * 7919) % KEYS}`);
  await until(caughtUp);
  const changelogEnd = (await admin.topicOffsets(CHANGELOG, 1)).reduce((sum, p) => sum + p.latest, 0);
  const covered = snapshotOffsets(stateDir).reduce((a, b) => a + b, 0);
  job.child.kill('SIGKILL');
  await new Promise((resolve) => job!.child.once('close', resolve));

  const restartedMs = performance.now();
  job = startJob(bootstrap, stateDir);
  const metrics = await job.running;
  const restartMs = performance.now() - restartedMs;
  const replayed = metrics.tasks.reduce((sum, t) => sum + t.restoredRecords, 0);
  await producer.close();
  printTable(`streams restore after a SIGKILL, ${KEYS.toLocaleString('en')} keys, ${PARTITIONS} partitions`, [
    ['figure', 'value'],
    ['keys held', KEYS.toLocaleString('en')],
    ['changelog offsets written', changelogEnd.toLocaleString('en')],
    ['covered by the snapshots', covered.toLocaleString('en')],
    ['records replayed on restart', replayed.toLocaleString('en')],
    ['restart until running', `${Math.round(restartMs)} ms`],
  ]);
  console.log(JSON.stringify({ bench: 'streams-restore', runtime: runtimeName(), keys: KEYS, tail: TAIL, partitions: PARTITIONS, changelog_offsets: changelogEnd, snapshot_covered: covered, replayed, restart_ms: Math.round(restartMs) }));
} finally {
  job?.child.kill('SIGKILL');
  await transport.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
