import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../../broker/cli/cli-program.ts';
import { runCli } from '../../../../broker/cli/run-cli.ts';

function commandsOf(command: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return [{ path, command }, ...command.commands.flatMap((c) => commandsOf(c, [...path, c.name()]))];
}

const tree = commandsOf(buildProgram({ io: { out: () => undefined, err: () => undefined }, env: {}, exitCode: 0 }));

describe('the rill command tree', () => {
  it('describes every command and every flag', () => {
    for (const { path, command } of tree) {
      if (path.length > 0) expect(command.description(), path.join(' ')).not.toBe('');
      for (const option of command.options) expect(option.description, `${path.join(' ')} ${option.flags}`).not.toBe('');
    }
    expect(tree.map((t) => t.path.join(' '))).toEqual(
      expect.arrayContaining(['start', 'run', 'streams reset', 'streams describe', 'streams diff', 'replay', 'acls create', 'acls list', 'acls delete', 'users create', 'users list', 'users delete', 'completion']),
    );
  });

  it('prints each command’s help, listing its flags, with exit code 0', async () => {
    for (const { path, command } of tree) {
      const out: string[] = [];
      const code = await runCli([...path, '--help'], { out: (line) => out.push(line), err: (line) => out.push(line) }, {});
      expect(code, path.join(' ')).toBe(0);
      const text = out.join('\n');
      expect(text).toMatch(new RegExp(`^Usage: rill${path.map((p) => ` ${p}`).join('')} `));
      for (const option of command.options) expect(text, `${path.join(' ')} --help`).toContain(option.long!);
    }
  });
});
