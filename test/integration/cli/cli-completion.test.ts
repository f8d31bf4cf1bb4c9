import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rillExit } from '../../helpers/rill-command.ts';

let dir: string;
let bashScript: string;
let zshScript: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rill-completion-'));
  const [bash, zsh] = await Promise.all([rillExit(['completion', 'bash']), rillExit(['completion', 'zsh'])]);
  expect(bash.code, bash.stderr).toBe(0);
  expect(zsh.code, zsh.stderr).toBe(0);
  bashScript = join(dir, 'rill.bash');
  zshScript = join(dir, '_rill');
  writeFileSync(bashScript, bash.stdout);
  writeFileSync(zshScript, zsh.stdout);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash offers for the words, the cursor on the last one, as `rill completion bash`'s function computes it. */
function complete(...words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['-c', `source "$1"; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _rill_complete; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', bashScript], { cwd: dir, encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '');
}

describe('rill completion', () => {
  it('bash: completes commands, subcommands, flags, flag choices (also of repeated values) and positional choices', () => {
    expect(complete('rill', 'str')).toEqual(['streams']);
    expect(complete('rill', '')).toEqual(expect.arrayContaining(['start', 'run', 'streams', 'replay', 'acls', 'users', 'completion']));
    expect(complete('rill', 'streams', '')).toEqual(['reset', 'describe', 'diff']);
    expect(complete('rill', 'streams', 'reset', '--inter')).toEqual(['--internal-topics']);
    expect(complete('rill', 'streams', 'reset', '--internal-topics', '')).toEqual(['delete', 'truncate']);
    expect(complete('rill', 'start', '--data-dir', '/tmp', '--kafka-tls-client-auth', 'r')).toEqual(['requested', 'required']);
    expect(complete('rill', 'acls', 'create', '--operation', 'read', 'w')).toEqual(['write']);
    expect(complete('rill', 'acls', 'create', '--operation', 'read', '--pri')).toEqual(['--principal']);
    expect(complete('rill', 'users', 'create', 'alice', '--mechanism', '')).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-512']);
    expect(complete('rill', 'completion', '')).toEqual(['bash', 'zsh']);
    expect(complete('rill', 'start', '--he')).toEqual(['--help']);
    // A flag's free value completes as a file name.
    writeFileSync(join(dir, 'job.mjs'), '');
    expect(complete('rill', 'run', 'jo')).toEqual(['job.mjs']);
    expect(complete('rill', 'start', '--config', 'rill.')).toEqual(['rill.bash']);
  });

  it('zsh: the script parses, registers _rill for rill, and walks the words as bash does', () => {
    if (!existsSync('/usr/bin/zsh') && !existsSync('/bin/zsh')) throw new Error('zsh is not installed: apt-get install -y zsh');
    execFileSync('zsh', ['-n', zshScript]);
    const out = execFileSync(
      'zsh',
      ['-c', 'autoload -Uz compinit && compinit -u -d "$2/zcompdump"; source "$1"; print -r -- ${_comps[rill]}; _rill_walk acls create --operation; print -r -- "$_rill_path|$_rill_value_of"; _rill_choices "$_rill_path" "$_rill_value_of" | head -2', 'zsh', zshScript, dir],
      { encoding: 'utf8' },
    );
    expect(out.split('\n')).toEqual(['_rill', 'acls create|--operation', 'all', 'read', '']);
  });

  it('rejects another shell with exit 2, and prints the bash script under Bun and Deno too', async () => {
    const [fish, bun, deno] = await Promise.all([rillExit(['completion', 'fish']), rillExit(['completion', 'bash'], { runtime: 'bun' }), rillExit(['completion', 'bash'], { runtime: 'deno' })]);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toBe("rill: command-argument value 'fish' is invalid for argument 'shell'. Allowed choices are bash, zsh.\n");
    const node = (await rillExit(['completion', 'bash'])).stdout;
    for (const exit of [bun, deno]) {
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toBe(node);
    }
  });
});
