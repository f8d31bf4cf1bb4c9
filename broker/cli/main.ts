#!/usr/bin/env node
import { processIo } from './cli-io.ts';
import { runCli } from './run-cli.ts';

runCli(process.argv.slice(2), processIo, process.env).then((code) => process.exit(code));
