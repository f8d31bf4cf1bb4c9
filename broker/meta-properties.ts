import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KafkaError } from '../sdk/protocol/kafka-error.ts';
import { readFileIfExists, writeFileAtomic } from './log/atomic-file.ts';
import type { FileSystem } from './log/file-system.ts';

/**
 * `meta.properties`, Kafka's identity file for a data directory, in Java properties syntax:
 *
 *   version=1
 *   cluster.id=<22-character base64url of 16 random bytes>
 *   node.id=<int>
 *
 * Written once, when the directory is first used; the cluster id then never changes, so clients
 * that remember it see the same cluster across restarts.
 */
export interface MetaProperties {
  clusterId: string;
  nodeId: number;
}

const FILE = 'meta.properties';

function parse(path: string, text: string): MetaProperties {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq > 0) entries.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const clusterId = entries.get('cluster.id');
  const nodeId = Number(entries.get('node.id'));
  if (clusterId === undefined || clusterId === '' || !Number.isInteger(nodeId)) {
    throw new KafkaError('KAFKA_STORAGE_ERROR', `${path} lacks cluster.id or node.id`);
  }
  return { clusterId, nodeId };
}

/** Reads the directory's identity, creating it on first use; a node id mismatch is refused. */
export async function loadMetaProperties(fs: FileSystem, dataDir: string, nodeId: number): Promise<MetaProperties> {
  const path = join(dataDir, FILE);
  const bytes = await readFileIfExists(fs, path);
  if (bytes !== undefined) {
    const meta = parse(path, new TextDecoder().decode(bytes));
    if (meta.nodeId !== nodeId) {
      throw new KafkaError('KAFKA_STORAGE_ERROR', `${path} belongs to node ${meta.nodeId}, not node ${nodeId}`);
    }
    return meta;
  }
  const meta = { clusterId: randomBytes(16).toString('base64url'), nodeId };
  const text = `version=1\ncluster.id=${meta.clusterId}\nnode.id=${nodeId}\n`;
  await writeFileAtomic(fs, path, new TextEncoder().encode(text));
  return meta;
}
