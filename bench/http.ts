/**
 * HTTP API benchmark against the broker as a separate process (`rill start`), over loopback with
 * raw keep-alive HTTP/1.1 connections (node:net, pre-encoded requests, one request in flight per
 * connection):
 *   1. single-record JSON produce requests with acks=all (fsync before the answer): requests/s;
 *   2. JSON produce requests of 100 records each with acks=all: records/s.
 * With acks=all the request rate is bounded by connections ÷ (fsync time + service time), so the
 * single-record phase needs hundreds of connections for one group commit to cover many requests.
 * Latency percentiles are per request. The broker runs on Node unless --broker-runtime says
 * otherwise; --broker-cpu-prof DIR writes a Node or Bun broker's CPU profile there (profile the generator
 * with `node --cpu-prof dist/bench/http.js`). --idempotency-keys gives every request an
 * Idempotency-Key of its own, measuring the exactly-once path (an intent and a result stored per
 * request besides the records).
 *
 *   node dist/bench/http.js [--seconds 10] [--connections 512] [--batch-connections 64] [--partitions 4]
 *        [--value-bytes 100] [--broker-runtime node|bun|deno] [--broker-cpu-prof DIR]
 *        [--idempotency-keys]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '512' },
    'batch-connections': { type: 'string', default: '64' },
    partitions: { type: 'string', default: '4' },
    'value-bytes': { type: 'string', default: '100' },
    'broker-runtime': { type: 'string', default: 'node' },
    'broker-cpu-prof': { type: 'string' },
    'idempotency-keys': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const partitions = Number(values.partitions);
const valueBytes = Number(values['value-bytes']);
const brokerRuntime = values['broker-runtime'] as 'node' | 'bun' | 'deno';
const idempotencyKeys = values['idempotency-keys'];
const runId = Date.now().toString(36);
let keyCounter = 0;
const TOPIC = 'bench';
const encoder = new TextEncoder();

function brokerCommand(dataDir: string): [string, string[]] {
  const compiled = import.meta.url.endsWith('.js');
  const root = fileURLToPath(new URL(compiled ? '../../' : '../', import.meta.url));
  const profileDir = values['broker-cpu-prof'];
  const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const args = ['start', '--data-dir', dataDir, '--host', '127.0.0.1', '--kafka-port', '0', '--http-port', '0'];
  switch (brokerRuntime) {
    case 'node':
      return ['node', [...profile, join(root, 'dist', 'broker', 'cli', 'main.js'), ...args]];
    case 'bun':
      return [join(root, 'node_modules', '.bin', 'bun'), [...profile, join(root, 'broker', 'cli', 'main.ts'), ...args]];
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

/**
 * Keeps `connections` raw keep-alive HTTP/1.1 connections busy for `durationS` seconds, each with one
 * request in flight (no pipelining) and sending the next as soon as the previous answer is complete.
 * The request bytes are encoded once; answers are parsed only as far as the status and the framing
 * (Content-Length or chunked), so the generator spends a few microseconds per request and does not
 * measure itself.
 */
async function load(port: number, path: string, body: Uint8Array, connections: number, durationS: number): Promise<Phase> {
  const head = encoder.encode(
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.byteLength}\r\n\r\n`,
  );
  const requestBytes = new Uint8Array(head.byteLength + body.byteLength);
  requestBytes.set(head);
  requestBytes.set(body, head.byteLength);
  // With --idempotency-keys every request carries a key of its own (a first attempt, never a retry).
  const nextRequest = !idempotencyKeys
    ? (): Uint8Array => requestBytes
    : (): Uint8Array => {
        const keyed = encoder.encode(`idempotency-key: ${runId}-${keyCounter++}\r\n`);
        const bytes = new Uint8Array(requestBytes.byteLength + keyed.byteLength);
        const headerAt = requestBytes.indexOf(CR);
        bytes.set(requestBytes.subarray(0, headerAt + 2));
        bytes.set(keyed, headerAt + 2);
        bytes.set(requestBytes.subarray(headerAt + 2), headerAt + 2 + keyed.byteLength);
        return bytes;
      };
  const latenciesMs: number[] = [];
  let requests = 0;
  let failures = 0;
  const start = performance.now();
  const deadline = start + durationS * 1000;
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port, noDelay: true });
          const parser = new ResponseParser();
          let sentAt = 0;
          const send = (): void => {
            sentAt = performance.now();
            socket.write(nextRequest());
          };
          socket.once('connect', send);
          socket.on('error', reject);
          socket.on('close', () => reject(new Error('the broker closed a connection')));
          socket.on('data', (chunk: Uint8Array) => {
            for (const status of parser.push(chunk)) {
              const now = performance.now();
              latenciesMs.push(now - sentAt);
              if (status === 200) requests++;
              else failures++;
              if (now < deadline) {
                send();
              } else {
                socket.removeAllListeners('close');
                socket.destroy();
                resolve();
              }
            }
          });
        }),
    ),
  );
  return { requests, failures, seconds: (performance.now() - start) / 1000, latenciesMs };
}

const CR = 13;
const LF = 10;

/** Splits a keep-alive byte stream into HTTP/1.1 responses, yielding each one's status code. */
class ResponseParser {
  private buffered = new Uint8Array(0);

  *push(chunk: Uint8Array): Generator<number> {
    let bytes = chunk;
    if (this.buffered.byteLength > 0) {
      bytes = new Uint8Array(this.buffered.byteLength + chunk.byteLength);
      bytes.set(this.buffered);
      bytes.set(chunk, this.buffered.byteLength);
    }
    let at = 0;
    for (;;) {
      const end = this.completeResponseEnd(bytes, at);
      if (end < 0) break;
      yield Number(latin1.decode(bytes.subarray(at + 9, at + 12)));
      at = end;
    }
    this.buffered = bytes.slice(at);
  }

  /** The end of the response starting at `at`, or -1 if it has not fully arrived. */
  private completeResponseEnd(bytes: Uint8Array, at: number): number {
    const headEnd = indexOfSequence(bytes, HEAD_END, at);
    if (headEnd < 0) return -1;
    const head = latin1.decode(bytes.subarray(at, headEnd)).toLowerCase();
    const bodyStart = headEnd + HEAD_END.byteLength;
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    if (length !== null) {
      const end = bodyStart + Number(length[1]);
      return end <= bytes.byteLength ? end : -1;
    }
    if (!head.includes('transfer-encoding: chunked')) throw new Error(`an answer without framing: ${head}`);
    let cursor = bodyStart;
    for (;;) {
      const lineEnd = indexOfSequence(bytes, LINE_END, cursor);
      if (lineEnd < 0) return -1;
      const size = parseInt(latin1.decode(bytes.subarray(cursor, lineEnd)), 16);
      const next = lineEnd + 2 + size + 2;
      if (next > bytes.byteLength) return -1;
      if (size === 0) return next;
      cursor = next;
    }
  }
}

const latin1 = new TextDecoder('latin1');
const HEAD_END = Uint8Array.of(CR, LF, CR, LF);
const LINE_END = Uint8Array.of(CR, LF);

function indexOfSequence(bytes: Uint8Array, sequence: Uint8Array, from: number): number {
  outer: for (let i = bytes.indexOf(sequence[0]!, from); i >= 0 && i + sequence.byteLength <= bytes.byteLength; i = bytes.indexOf(sequence[0]!, i + 1)) {
    for (let j = 1; j < sequence.byteLength; j++) if (bytes[i + j] !== sequence[j]) continue outer;
    return i;
  }
  return -1;
}

function percentile(sorted: number[], p: number): number {
  return +(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0).toFixed(2);
}

const value = 'x'.repeat(valueBytes);
const single = encoder.encode(JSON.stringify({ records: [{ value }] }));
const batch = encoder.encode(JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value })) }));

const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-http-'));
const broker = await startBroker(dataDir).catch((error: unknown) => {
  rmSync(dataDir, { recursive: true, force: true });
  throw error;
});
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
    idempotency_keys: idempotencyKeys,
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
