/**
 * HTTP API benchmark against the broker as a separate process (`rill start`), over loopback with
 * keep-alive connections from node:http agents:
 *   1. single-record JSON produce requests with acks=all (fsync before the answer): requests/s;
 *   2. JSON produce requests of 100 records each with acks=all: records/s.
 * Every connection runs one request at a time for a fixed duration; latency percentiles are per
 * request. The broker runs on Node unless --broker-runtime says otherwise.
 *
 *   node dist/bench/http.js [--seconds 10] [--connections 64] [--batch-connections 32] [--partitions 4]
 *        [--value-bytes 100] [--broker-runtime node|bun|deno]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'batch-connections': { type: 'string', default: '32' },
    partitions: { type: 'string', default: '4' },
    'value-bytes': { type: 'string', default: '100' },
    'broker-runtime': { type: 'string', default: 'node' },
  },
});
const seconds = Number(values.seconds);
const partitions = Number(values.partitions);
const valueBytes = Number(values['value-bytes']);
const brokerRuntime = values['broker-runtime'] as 'node' | 'bun' | 'deno';
const TOPIC = 'bench';

function brokerCommand(dataDir: string): [string, string[]] {
  const compiled = import.meta.url.endsWith('.js');
  const root = fileURLToPath(new URL(compiled ? '../../' : '../', import.meta.url));
  const args = ['start', '--data-dir', dataDir, '--host', '127.0.0.1', '--kafka-port', '0', '--http-port', '0'];
  switch (brokerRuntime) {
    case 'node':
      return ['node', [join(root, 'dist', 'broker', 'cli', 'main.js'), ...args]];
    case 'bun':
      return [join(root, 'node_modules', '.bin', 'bun'), [join(root, 'broker', 'cli', 'main.ts'), ...args]];
    case 'deno':
      return [join(root, 'node_modules', '.bin', 'deno'), ['run', '-A', '--no-lock', join(root, 'broker', 'cli', 'main.ts'), ...args]];
  }
}

async function startBroker(dataDir: string): Promise<{ child: ChildProcess; httpPort: number }> {
  const [command, args] = brokerCommand(dataDir);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  const httpPort = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Uint8Array) => {
      output += new TextDecoder().decode(d);
      const listening = /http listening on \S+:(\d+)/.exec(output);
      if (listening !== null && /broker ready/.test(output)) resolve(Number(listening[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code} before it was ready: ${output}`)));
  });
  return { child, httpPort };
}

interface Phase {
  requests: number;
  failures: number;
  seconds: number;
  latenciesMs: number[];
}

/** Runs `connections` loops, each sending `body` and awaiting the answer, for `durationS` seconds. */
async function load(port: number, path: string, body: Uint8Array, connections: number, durationS: number): Promise<Phase> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latenciesMs: number[] = [];
  let requests = 0;
  let failures = 0;
  const send = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.byteLength } },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const start = performance.now();
  const deadline = start + durationS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const sentAt = performance.now();
        const status = await send();
        latenciesMs.push(performance.now() - sentAt);
        if (status === 200) requests++;
        else failures++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return { requests, failures, seconds: elapsed, latenciesMs };
}

function percentile(sorted: number[], p: number): number {
  return +(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0).toFixed(2);
}

const encoder = new TextEncoder();
const value = 'x'.repeat(valueBytes);
const single = encoder.encode(JSON.stringify({ records: [{ value }] }));
const batch = encoder.encode(JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value })) }));

const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-http-'));
const broker = await startBroker(dataDir);
try {
  const create = await fetch(`http://127.0.0.1:${broker.httpPort}/v1/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: TOPIC, partitions }),
  });
  if (create.status !== 201) throw new Error(`creating the topic failed: ${create.status} ${await create.text()}`);
  const path = `/v1/topics/${TOPIC}/records?acks=all`;
  await load(broker.httpPort, path, single, 8, 1);
  const one = await load(broker.httpPort, path, single, Number(values.connections), seconds);
  const hundred = await load(broker.httpPort, path, batch, Number(values['batch-connections']), seconds);
  const oneSorted = one.latenciesMs.sort((a, b) => a - b);
  const hundredSorted = hundred.latenciesMs.sort((a, b) => a - b);
  const figures = {
    bench: 'http',
    runtime: runtimeName(),
    broker_runtime: brokerRuntime,
    partitions,
    value_bytes: valueBytes,
    single_connections: Number(values.connections),
    single_requests_s: Math.round(one.requests / one.seconds),
    single_p50_ms: percentile(oneSorted, 50),
    single_p99_ms: percentile(oneSorted, 99),
    single_failures: one.failures,
    batch_connections: Number(values['batch-connections']),
    batch_requests_s: Math.round(hundred.requests / hundred.seconds),
    batch_records_s: Math.round((hundred.requests * 100) / hundred.seconds),
    batch_p50_ms: percentile(hundredSorted, 50),
    batch_p99_ms: percentile(hundredSorted, 99),
    batch_failures: hundred.failures,
  };
  printTable('HTTP API benchmark (JSON produce, acks=all, keep-alive, loopback)', [
    ['1 record per request', `${figures.single_requests_s.toLocaleString('en')} requests/s`, `p50 ${figures.single_p50_ms} ms, p99 ${figures.single_p99_ms} ms`],
    ['100 records per request', `${figures.batch_records_s.toLocaleString('en')} records/s`, `p50 ${figures.batch_p50_ms} ms, p99 ${figures.batch_p99_ms} ms`],
    ['failed requests', String(figures.single_failures + figures.batch_failures), ''],
  ]);
  console.log(JSON.stringify(figures));
} finally {
  broker.child.kill('SIGTERM');
  await new Promise((resolve) => broker.child.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
