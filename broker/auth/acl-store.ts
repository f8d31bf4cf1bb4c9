import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../log/atomic-file.ts';
import type { FileSystem } from '../log/file-system.ts';
import { type AclBinding, invalidBindingReason } from './acl.ts';

/**
 * The ACLs' durable home: `acls.json` in the data directory, replaced atomically on every change.
 * A file rather than an internal compacted topic because the set is small, changes rarely and is
 * read whole at startup; a single-node broker has no followers to replicate it to, so a topic would
 * add a replay path and compaction for nothing.
 *
 * Format (version 1): `{"version":1,"acls":[{resourceType,resourceName,patternType,principal,host,
 * operation,permissionType}, ...]}` with Kafka's numeric codes.
 */
export const ACL_FILE = 'acls.json';

export async function loadAcls(fs: FileSystem, dataDir: string): Promise<AclBinding[]> {
  const bytes = await readFileIfExists(fs, join(dataDir, ACL_FILE));
  if (bytes === undefined) return [];
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { version?: unknown; acls?: unknown };
  if (parsed.version !== 1 || !Array.isArray(parsed.acls)) throw new Error(`${ACL_FILE}: unsupported format (version ${String(parsed.version)})`);
  return parsed.acls.map((acl: AclBinding) => {
    const reason = invalidBindingReason(acl);
    if (reason !== undefined) throw new Error(`${ACL_FILE}: invalid ACL ${JSON.stringify(acl)}: ${reason}`);
    return acl;
  });
}

export function saveAcls(fs: FileSystem, dataDir: string, acls: readonly AclBinding[]): Promise<void> {
  const acl = acls.map((a) => ({
    resourceType: a.resourceType,
    resourceName: a.resourceName,
    patternType: a.patternType,
    principal: a.principal,
    host: a.host,
    operation: a.operation,
    permissionType: a.permissionType,
  }));
  return writeFileAtomic(fs, join(dataDir, ACL_FILE), new TextEncoder().encode(JSON.stringify({ version: 1, acls: acl })));
}
