import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, TcpTransport, type Transport } from '../../sdk/mod.ts';
import { awaitLatestCounts } from '../helpers/latest-counts.ts';
import { ManagedProcess, repoRoot } from '../helpers/child-process.ts';
import { README, readmeCommands } from '../helpers/readme-commands.ts';

const run = promisify(execFile);

/** The diff output the README shows. */
function expectedDiff(): string {
  const block = /<!-- walkthrough:diff -->\n```\n([\s\S]*?)\n```/.exec(README);
  if (block === null) throw new Error('README.md has no walkthrough diff output');
  return block[1]!;
}

const V1_COUNTS = { the: 3, quick: 1, brown: 1, fox: 2, jumps: 1, over: 1, lazy: 1, dog: 2, and: 1, a: 1 };
const V2_COUNTS = { quick: 1, brown: 1, fox: 2, jumps: 1, lazy: 1, dog: 2 };

/** Waits until `topic`'s latest count per key since `from` is `expected`, with no other key. */
async function awaitLatest(transport: Transport, topic: string, expected: Readonly<Record<string, number>>, from: readonly number[] = [0, 0]): Promise<void> {
  const latest = await awaitLatestCounts(transport, topic, from, new Map(Object.entries(expected)));
  expect(Object.fromEntries(latest)).toEqual(expected);
}

/**
 * Follows README.md's "Worked example" line by line against a fresh data directory: each command
 * runs as written (through bash, with `rill` the built CLI), only the addresses and directories
 * swapped for this test's (ports picked by the OS, temporary directories; a command relying on the
 * default --bootstrap gets this test's broker). Between the steps the
 * test waits for what a reader waits for (the job running, its outputs caught up), and checks what
 * the README says each step shows.
 */
describe('the README walkthrough', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rill-walkthrough-'));
  const background: ManagedProcess[] = [];
  let transport: TcpTransport | undefined;

  afterAll(async () => {
    await transport?.close();
    await Promise.all(background.map((p) => p.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays word count, runs version 2 beside version 1 and diffs them as it says', async () => {
    const commands = readmeCommands('walkthrough');
    expect(commands[0]).toBe("alias rill='node dist/broker/cli/main.js'");
    const addresses = { kafka: '', http: '', job: '' };
    const substitute = (command: string): string =>
      command
        .replace(/^rill /, 'node dist/broker/cli/main.js ')
        .replaceAll('./walkthrough-data', join(dir, 'data'))
        .replaceAll('./walkthrough-state', join(dir, 'state'))
        .replaceAll('127.0.0.1:9092', addresses.kafka)
        .replaceAll('localhost:8080', addresses.http)
        .replaceAll('localhost:8081', addresses.job)
        .replace('--http-port 8081', '--http-port 0')
        // Commands that leave --bootstrap out mean the default, 127.0.0.1:9092: here, this test's broker.
        .replace(/^(node dist\/broker\/cli\/main\.js (?:streams|replay) (?:(?!--bootstrap).)*)$/, `$1 --bootstrap ${addresses.kafka}`);
    const spawnBackground = (command: string): ManagedProcess => {
      const proc = new ManagedProcess('bash', ['-c', `exec ${substitute(command.replace(/\s*&$/, ''))}`]);
      background.push(proc);
      return proc;
    };
    let resetAt: number[] = [];
    const steps: string[] = [];
    for (const command of commands.slice(1)) {
      steps.push(command);
      if (command.startsWith('rill start ')) {
        const broker = spawnBackground(`${command.replace(/\s*&$/, '')} --kafka-port 0 --http-port 0`);
        addresses.kafka = /listening on (\S+)/.exec(await broker.waitForLine(/kafka listening on/))![1]!;
        addresses.http = /listening on (\S+)/.exec(await broker.waitForLine(/http listening on/))![1]!;
        await broker.waitForLine(/broker ready/);
        transport = new TcpTransport({ bootstrapServers: [addresses.kafka] });
      } else if (command.startsWith('rill run ')) {
        const job = spawnBackground(command);
        const v2 = command.includes('word-count-v2');
        if (command.includes('--http-port')) addresses.job = /on http:\/\/(\S+)$/.exec(await job.waitForLine(/serving queries/))![1]!;
        await job.waitForLine(v2 ? /word-count-v2 RUNNING/ : /word-count RUNNING/);
        if (v2) await awaitLatest(transport!, 'word-counts-v2', V2_COUNTS);
        else await awaitLatest(transport!, 'word-counts', V1_COUNTS, resetAt.length > 0 ? resetAt : undefined);
      } else if (/^kill %\d$/.test(command)) {
        const exit = await background[Number(command.slice(6)) - 1]!.stop('SIGTERM');
        expect(exit.code, exit.stderr).toBe(0);
        expect(exit.stdout).toMatch(/word-count stopped cleanly/);
      } else {
        const { stdout } = await run('bash', ['-c', substitute(command)], { cwd: repoRoot });
        if (command.includes('/records')) expect(JSON.parse(stdout)).toMatchObject({ records: [{}, {}, {}] });
        if (command.includes('/stores/word-counts-store/keys/the')) expect(JSON.parse(stdout)).toMatchObject({ key: 'the', value: 3 });
        if (command.includes('--dry-run')) expect(stdout).toMatch(/^Dry run: would reset application "word-count" to earliest/);
        if (command.startsWith('rill streams reset') && !command.includes('--dry-run')) {
          expect(stdout).toMatch(/^Reset application "word-count" to earliest/);
          resetAt = (await new Admin(transport!).topicOffsets('word-counts', 1)).map((p) => p.latest);
        }
        if (command.startsWith('rill streams diff')) expect(stdout.trimEnd()).toBe(expectedDiff());
      }
    }
    expect(steps.filter((s) => s.startsWith('rill run ')).length).toBe(3);
    expect(steps.at(-1)).toMatch(/^rill streams diff /);
    // Three job starts, each with the group's initial rebalance delay, on a loaded machine: a wide budget.
  }, 240_000);
});
