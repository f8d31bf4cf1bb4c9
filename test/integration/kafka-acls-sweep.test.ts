import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ApiKey, decodeResponse } from '../../sdk/protocol/mod.ts';
import { buildSeedFrames } from '../helpers/fuzz-seeds.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';

/**
 * Every advertised API at every advertised version, sent by a principal no ACL names: each gets an
 * answer that encodes at its version (an authorization response that cannot be encoded would close
 * the connection), and nothing is appended, created or deleted.
 */
it('answers every API and version for an unauthorized principal without closing the connection or changing anything', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-acl-sweep-'));
  const broker = await Broker.open({ config: { dataDir }, authorizer: {}, groups: { initialRebalanceDelayMs: 0 } });
  const errors: string[] = [];
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { onError: (error) => errors.push(String(error)) } });
  const client = await RawKafkaClient.connect(listener.port, '127.0.0.1', 'nobody');
  try {
    await broker.createTopic('sweep-target', { partitions: 2 });
    const versions = await client.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'sweep', clientSoftwareVersion: '1' });
    const { seeds, missing } = buildSeedFrames(versions.apiKeys, { target: 'sweep-target', targetPartitions: 2, scratchPrefix: 'sweep-scratch-' }, 1);
    expect(missing).toEqual([]);
    const topicsBefore = broker.listTopics({ includeInternal: false });
    let answered = 0;
    for (const seed of seeds) {
      // Every seed expects a response (no Produce seed uses acks=0), so each frame is awaited.
      const response = await client.sendFrame(seed.frame).catch((error: unknown) => {
        throw new Error(`api ${seed.apiKey} v${seed.apiVersion}: ${String(error)}; broker: ${errors.join('; ')}`);
      });
      expect(() => decodeResponse(seed.apiKey as ApiKey, seed.apiVersion, response), `api ${seed.apiKey} v${seed.apiVersion}`).not.toThrow();
      answered++;
    }
    expect(answered).toBe(seeds.length);
    expect(errors).toEqual([]);
    expect(broker.listTopics({ includeInternal: false })).toEqual(topicsBefore);
    expect(broker.describeTopic('sweep-target').partitions.map((p) => p.highWatermark)).toEqual([0, 0]);
  } finally {
    client.close();
    await listener.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
