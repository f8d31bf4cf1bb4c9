import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { Broker, type BrokerOptions } from '../../../../broker/broker.ts';
import { createHttpApp, type HttpApp } from '../../../../broker/http/http-app.ts';
import type { HttpApiOptions } from '../../../../broker/http/http-options.ts';

/** Tests read response bodies as loosely typed JSON. */
export type TestResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface TestApp {
  broker: Broker;
  http: HttpApp;
  dataDir: string;
  request(path: string, init?: RequestInit & { json?: unknown; msgpack?: unknown }): Promise<TestResponse>;
  /** Closes the app and broker; keeps the data directory (for a restart) unless `remove` is set. */
  close(remove?: boolean): Promise<void>;
}

/** A broker in a fresh temp dir (or `dataDir`) with the HTTP app over it, driven through `app.request()`. */
export async function openTestApp(options: Partial<HttpApiOptions> = {}, dataDir?: string, brokerOptions: Omit<BrokerOptions, 'config'> = {}): Promise<TestApp> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'rill-http-'));
  const broker = await Broker.open({ ...brokerOptions, config: { dataDir: dir } });
  const http = await createHttpApp(broker, options);
  return {
    broker,
    http,
    dataDir: dir,
    request(path, init = {}) {
      const { json, msgpack, ...rest } = init;
      const headers = new Headers(rest.headers);
      let body = rest.body;
      if (json !== undefined) {
        body = JSON.stringify(json);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      if (msgpack !== undefined) {
        body = encode(msgpack);
        headers.set('content-type', 'application/msgpack');
      }
      const method = rest.method ?? (body === undefined ? 'GET' : 'POST');
      return Promise.resolve(http.app.request(path, { ...rest, method, headers, ...(body === undefined ? {} : { body }) }, { remoteAddress: '10.0.0.1' })) as Promise<TestResponse>;
    },
    async close(remove = true) {
      http.close();
      await broker.close();
      if (remove) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function problemOf(response: TestResponse): Promise<{ status: number; type: string; detail: string; errors?: { path?: string; message: string }[] }> {
  if (response.headers.get('content-type') !== 'application/problem+json') {
    throw new Error(`expected problem+json, got ${response.status} ${response.headers.get('content-type')}: ${await response.text()}`);
  }
  return (await response.json()) as never;
}
