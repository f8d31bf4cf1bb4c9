import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { Broker, type BrokerOptions } from '../../../../../broker/broker.ts';
import type { ApiHandler, RequestContext } from '../../../../../broker/kafka/api-handler.ts';
import { type FileSystem, nodeFileSystem } from '../../../../../broker/log/file-system.ts';
import { ANONYMOUS } from '../../../../../broker/security/kafka-principal.ts';
import {
  type ApiKey,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type RequestBodies,
  type ResponseBodies,
} from '../../../../../sdk/protocol/mod.ts';

const dirs: string[] = [];
const brokers: Broker[] = [];

afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A real broker in a fresh temp directory, closed and removed after the test. */
export async function openBroker(options: BrokerOptions = {}): Promise<Broker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-admin-api-'));
  dirs.push(dataDir);
  const broker = await Broker.open({ ...options, config: { dataDir, ...options.config } });
  brokers.push(broker);
  return broker;
}

export function versionsOf(handler: { minVersion: number; maxVersion: number }): number[] {
  const versions: number[] = [];
  for (let v = handler.minVersion; v <= handler.maxVersion; v++) versions.push(v);
  return versions;
}

let correlationId = 0;

export interface Exchange<K extends ApiKey> {
  /** What the handler returned. */
  response: ResponseBodies[K];
  /** The same response after encoding and decoding at the request's version: what a client reads. */
  wire: ResponseBodies[K];
}

/**
 * Sends `body` through the handler as the dispatcher would: encoded and decoded at `version` (so a
 * body the version cannot carry fails here), handled, then the response encoded and decoded at
 * the same version (so a field the version lacks but the handler set throws ProtocolEncodeError).
 */
export async function exchange<K extends ApiKey>(
  handler: ApiHandler<K>,
  broker: Broker,
  version: number,
  body: RequestBodies[K],
): Promise<Exchange<K>> {
  correlationId++;
  const frame = encodeRequest(handler.apiKey, version, { correlationId, clientId: 'admin-test' }, body);
  const decoded = decodeRequest(frame);
  expect(decoded.apiKey).toBe(handler.apiKey);
  const context: RequestContext = {
    broker,
    apiVersion: decoded.apiVersion,
    header: decoded.header,
    connection: { id: 1, remoteAddress: 'test', closed: new AbortController().signal, principal: ANONYMOUS, closeAfterResponses: () => undefined },
    advertised: { nodeId: 0, host: '127.0.0.1', port: 9092 },
    clusterId: 'test',
  };
  const response = await handler.handle(decoded.body as RequestBodies[K], context);
  if (response === undefined) throw new Error(`${handler.apiKey} v${version} returned no response`);
  const responseFrame = encodeResponse(handler.apiKey, version, correlationId, response);
  const wire = decodeResponse(handler.apiKey, version, responseFrame);
  expect(wire.correlationId).toBe(correlationId);
  return { response, wire: wire.body };
}

/** Resolves a promise from outside: lets a test hold a filesystem call until it chooses to. */
export class Gate {
  readonly opened: Promise<void>;
  open!: () => void;
  constructor() {
    this.opened = new Promise((resolve) => (this.open = resolve));
  }
}

/**
 * The real filesystem, except that `operation` on a directory whose path contains `marker` waits
 * for `gate`; `entered` resolves when the first such call arrives.
 */
export function gatedFileSystem(
  marker: string,
  gate: Gate,
  operation: 'mkdir' | 'removeDirectory',
): { fs: FileSystem; entered: Promise<void> } {
  let enter!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const hold = async (path: string, called: typeof operation): Promise<void> => {
    if (called !== operation || !path.includes(marker)) return;
    enter();
    await gate.opened;
  };
  const fs: FileSystem = {
    ...nodeFileSystem,
    async mkdir(path) {
      await hold(path, 'mkdir');
      return nodeFileSystem.mkdir(path);
    },
    async removeDirectory(path) {
      await hold(path, 'removeDirectory');
      return nodeFileSystem.removeDirectory(path);
    },
  };
  return { fs, entered };
}

/** The ErrorCode value of a KafkaError name, for terse assertions. */
export { ErrorCode } from '../../../../../sdk/protocol/error-codes.ts';
