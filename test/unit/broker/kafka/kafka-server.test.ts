import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../../broker/broker.ts';
import { KafkaListener } from '../../../../broker/kafka/kafka-listener.ts';
import { FrameSplitter } from '../../../../broker/kafka/frame-splitter.ts';
import { ApiKey, encodeRequest } from '../../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { RawKafkaClient } from '../../../helpers/raw-kafka-client.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(limits: Parameters<typeof KafkaListener.start>[1]['limits'] = {}): Promise<{ broker: Broker; listener: KafkaListener }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-server-'));
  const broker = await Broker.open({ config: { dataDir } });
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits });
  cleanups.push(async () => {
    await listener.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { broker, listener };
}

const metadataAll = {
  topics: null,
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

/** The frames as a Kafka byte stream: each after its 4-byte big-endian size. */
function framed(frames: readonly Uint8Array[]): Uint8Array {
  const stream = new Uint8Array(frames.reduce((n, f) => n + 4 + f.length, 0));
  let at = 0;
  for (const frame of frames) {
    new DataView(stream.buffer).setUint32(at, frame.length);
    stream.set(frame, at + 4);
    at += 4 + frame.length;
  }
  return stream;
}

describe('FrameSplitter', () => {
  it('reassembles frames from any split of the byte stream, one byte at a time included', () => {
    const frames = [Uint8Array.from([1, 2, 3]), new Uint8Array(0), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)];
    const stream = framed(frames);
    for (const chunkBytes of [1, 2, 3, 5, 7, 64, stream.length]) {
      const splitter = new FrameSplitter(1024);
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += chunkBytes) out.push(...splitter.push(stream.subarray(i, i + chunkBytes)).map((f) => f.slice()));
      expect(out).toEqual(frames);
      expect(splitter.bufferedBytes).toBe(0);
    }
  });

  it('reassembles any frames from any chunking, copying large ones into their own buffer, holding at most twice the bytes pending', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 4, max: 400 }),
        (frames, cuts, assembleFrom) => {
          const stream = framed(frames);
          const splitter = new FrameSplitter(1024, assembleFrom);
          const out: Uint8Array[] = [];
          let pushed = 0;
          let consumed = 0;
          for (let i = 0, c = 0; i < stream.length; c++) {
            const chunk = stream.slice(i, i + cuts[c % cuts.length]!);
            i += chunk.length;
            pushed += chunk.length;
            for (const frame of splitter.push(chunk)) {
              out.push(frame.slice());
              consumed += 4 + frame.length;
            }
            expect(splitter.bufferedBytes).toBeLessThanOrEqual(2 * (pushed - consumed));
          }
          expect(out).toEqual(frames);
          expect(splitter.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects negative and oversized frame sizes before buffering the body', () => {
    const splitter = new FrameSplitter(100);
    expect(() => splitter.push(Uint8Array.from([0, 0, 0, 101]))).toThrow(KafkaError);
    expect(() => new FrameSplitter(100).push(Uint8Array.from([0xff, 0xff, 0xff, 0xfe]))).toThrow(/outside/);
  });
});

describe('Kafka listener limits', () => {
  it('closes a connection that sends a frame over the maximum request size', async () => {
    const { listener } = await listen({ maxRequestBytes: 1024 });
    const client = await RawKafkaClient.connect(listener.port);
    client.writeRaw(Uint8Array.from([0, 0, 0x10, 0]));
    await client.closed();
    expect(client.isClosed).toBe(true);
  });

  it('bounds request memory across connections and recovers when they go away', async () => {
    const capacity = 1024 * 1024;
    const { listener } = await listen({ maxRequestBytes: 900 * 1024, queuedMaxRequestBytes: capacity, connectionsMaxIdleMs: 300 });
    const partial = new Uint8Array(4 + 700 * 1024);
    new DataView(partial.buffer).setUint32(0, 900 * 1024);
    const hogs = await Promise.all(Array.from({ length: 6 }, () => RawKafkaClient.connect(listener.port)));
    for (const hog of hogs) hog.writeRaw(partial);
    // Turn the event loop until the pool fills; the hogs have sent far more than it holds.
    while (listener.requestMemoryBytes < capacity) await new Promise((resolve) => setImmediate(resolve));
    for (let turn = 0; turn < 200; turn++) await new Promise((resolve) => setImmediate(resolve));
    // Each paused connection may hold one more socket read (64 KiB) than the pool allows.
    expect(listener.requestMemoryBytes).toBeLessThanOrEqual(capacity + hogs.length * 64 * 1024);
    for (const hog of hogs) hog.close();
    // A paused socket does not read the peer's FIN; the idle reaper closes it and frees its bytes.
    while (listener.requestMemoryBytes > 0) await new Promise((resolve) => setImmediate(resolve));
    const client = await RawKafkaClient.connect(listener.port);
    expect((await client.request(ApiKey.Metadata, 6, metadataAll)).brokers).toHaveLength(1);
    client.close();
  });

  it('reaps connections idle past connectionsMaxIdleMs and keeps busy ones', async () => {
    const { listener } = await listen({ connectionsMaxIdleMs: 50 });
    const idle = await RawKafkaClient.connect(listener.port);
    await idle.request(ApiKey.Metadata, 6, metadataAll);
    await idle.closed();
    expect(idle.isClosed).toBe(true);
  });

  it('refuses connections beyond maxConnections', async () => {
    const { listener } = await listen({ maxConnections: 1 });
    const first = await RawKafkaClient.connect(listener.port);
    await first.request(ApiKey.Metadata, 6, metadataAll);
    const second = await RawKafkaClient.connect(listener.port);
    await second.closed();
    expect(second.isClosed).toBe(true);
    expect((await first.request(ApiKey.Metadata, 6, metadataAll)).brokers).toHaveLength(1);
    first.close();
  });

  it('answers a parked fetch before closing on shutdown', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-server-'));
    const broker = await Broker.open({ config: { dataDir } });
    const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
    await broker.createTopic('t');
    const client = await RawKafkaClient.connect(listener.port);
    const parked = client.sendFrame(
      encodeRequest(ApiKey.Fetch, 11, { correlationId: 5, clientId: null }, {
        clusterId: null,
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1n },
        maxWaitMs: 60_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 't', topicId: '', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: '' }] }],
        forgottenTopicsData: [],
        rackId: '',
      }),
    );
    // Wait, one event-loop turn at a time, until the broker has read and parked the fetch.
    while (broker.parkedFetchCount === 0) await new Promise((resolve) => setImmediate(resolve));
    const closing = listener.close();
    await broker.close();
    await closing;
    expect((await parked).byteLength).toBeGreaterThan(0);
    await client.closed();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
