#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { UsageError } from './parse-start-options.ts';
import { replayCommand } from './replay-command.ts';
import { runCommand } from './run-command.ts';
import { startCommand, type CommandIo } from './start-command.ts';
import { streamsCommand } from './streams-command.ts';
import { USAGE } from './usage.ts';

const io: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function version(): string {
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rill' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      continue;
    }
  }
  return 'unknown';
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return startCommand(rest, io);
    case 'streams':
      return streamsCommand(rest, io);
    case 'replay':
      return replayCommand(rest, io);
    case 'run':
      return runCommand(rest, io);
    case '--version':
    case 'version':
      io.out(version());
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      io.err(`rill: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (error instanceof KafkaError) {
      io.err(`rill: ${error.message}`);
      process.exit(1);
    }
    io.err(`rill: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
