import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './child-process.ts';

export const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The commands of README.md's shell block between `<!-- name:begin -->` and `<!-- name:end -->`: continuation lines joined, comments and blank lines dropped. */
export function readmeCommands(name: string): string[] {
  const block = new RegExp(`<!-- ${name}:begin -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\n<!-- ${name}:end -->`).exec(README);
  if (block === null) throw new Error(`README.md has no ${name} block`);
  return block[1]!
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+# .*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
