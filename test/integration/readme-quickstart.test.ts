import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, TcpTransport } from '../../sdk/mod.ts';
import { ManagedProcess, repoRoot } from '../helpers/child-process.ts';
import { readmeCommands } from '../helpers/readme-commands.ts';
import { awaitLatestCounts } from '../helpers/latest-counts.ts';

const run = promisify(execFile);

const COUNTS = { the: 3, quick: 1, brown: 1, fox: 2, jumps: 1, over: 1, lazy: 1, dog: 2, and: 1, a: 1 };

/**
 * Follows README.md's quickstart line by line against a fresh data directory: each command runs as
 * written (through bash, `rill` the built CLI), with only the addresses and directories swapped for
 * this test's (ports the OS picks, temporary directories). `npm install && npm start` is the
 * install this test already runs under, then `rill start` with the defaults npm start uses. Between
 * steps the test waits for what a reader waits for (the broker ready, the job running and caught up),
 * and checks what the README says each step shows.
 */
describe('the README quickstart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rill-quickstart-'));
  const background: ManagedProcess[] = [];
  let transport: TcpTransport | undefined;

  afterAll(async () => {
    await transport?.close();
    await Promise.all(background.map((p) => p.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, writes and reads a topic, counts its words exactly once and replays the count', async () => {
    const commands = readmeCommands('quickstart');
    expect(commands[0]).toBe('npm install && npm start &');
    expect(commands[1]).toBe("alias rill='node dist/broker/cli/main.js'");
    const addresses = { kafka: '', http: '', job: '' };
    const substitute = (command: string): string =>
      command
        .replace(/(^|\|\s*)rill /g, '$1node dist/broker/cli/main.js ')
        .replaceAll('./quickstart-state', join(dir, 'state'))
        .replaceAll('127.0.0.1:9092', addresses.kafka)
        .replaceAll('localhost:8080', addresses.http)
        .replaceAll('localhost:8081', addresses.job)
        .replace('--http-port 8081', '--http-port 0');
    const spawnBackground = (command: string): ManagedProcess => {
      const proc = new ManagedProcess('bash', ['-c', `exec ${substitute(command.replace(/\s*&$/, ''))}`]);
      background.push(proc);
      return proc;
    };
    let runs = 0;
    let resetAt: number[] = [];
    for (const command of [commands[0]!, ...commands.slice(2)]) {
      if (command === 'npm install && npm start &') {
        // npm start is `rill start` with its defaults (after the build this test already runs under),
        // here on ports the OS picks and a temporary data directory.
        const broker = spawnBackground(`rill start --data-dir ${join(dir, 'data')} --kafka-port 0 --http-port 0`);
        addresses.kafka = /listening on (\S+)/.exec(await broker.waitForLine(/kafka listening on/))![1]!;
        addresses.http = /listening on (\S+)/.exec(await broker.waitForLine(/http listening on/))![1]!;
        await broker.waitForLine(/broker ready/);
        transport = new TcpTransport({ bootstrapServers: [addresses.kafka] });
      } else if (command.startsWith('rill run ')) {
        runs++;
        const job = spawnBackground(command);
        addresses.job = /on http:\/\/(\S+)$/.exec(await job.waitForLine(/serving queries/))![1]!;
        await job.waitForLine(/word-count RUNNING/);
        await awaitLatestCounts(transport!, 'word-counts', resetAt.length > 0 ? resetAt : [0, 0], new Map(Object.entries(COUNTS)));
      } else if (/^kill %\d$/.test(command)) {
        const exit = await background[Number(command.slice(6)) - 1]!.stop('SIGTERM');
        expect(exit.code, exit.stderr).toBe(0);
        expect(exit.stdout).toMatch(/word-count stopped cleanly/);
      } else {
        // Client commands that leave --bootstrap out mean the default, 127.0.0.1:9092: here, this test's broker.
        const { stdout } = await run('bash', ['-c', substitute(command)], { cwd: repoRoot, env: { ...process.env, RILL_BOOTSTRAP: addresses.kafka } });
        if (command.startsWith('rill topics create')) expect(stdout).toMatch(/lines/);
        if (command.includes('/records')) expect(JSON.parse(stdout)).toMatchObject({ records: [{ partition: expect.any(Number) }] });
        if (command.includes('| rill produce')) expect(stdout).toMatch(/\b2 records\b/);
        if (command.startsWith('rill consume')) {
          expect(stdout.trimEnd().split('\n').sort()).toEqual(['l1 => "The quick brown fox"', 'l2 => jumps over the lazy dog', 'l3 => the fox and a dog'].sort());
        }
        if (command.includes('/stores/word-counts-store/keys/the')) expect(JSON.parse(stdout)).toMatchObject({ key: 'the', value: 3 });
        if (command.startsWith('rill streams reset')) {
          expect(stdout).toMatch(/^Reset application "word-count" to earliest/);
          resetAt = (await new Admin(transport!).topicOffsets('word-counts', 1)).map((p) => p.latest);
        }
      }
    }
    expect(runs).toBe(2);
  }, 180_000);

});
