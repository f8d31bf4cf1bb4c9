import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AclBinding, AclOperation as Op, AclPermission, PatternType, ResourceType } from '../../../../broker/auth/acl.ts';
import { AclAuthorizer } from '../../../../broker/auth/acl-authorizer.ts';
import { AUDIT_LOG_FILE, AuditLog } from '../../../../broker/auth/audit-log.ts';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';

function allow(principal: string, resourceType: AclBinding['resourceType'], resourceName: string, operation: AclBinding['operation'], extra: Partial<AclBinding> = {}): AclBinding {
  return { resourceType, resourceName, patternType: PatternType.LITERAL, principal, host: '*', operation, permissionType: AclPermission.ALLOW, ...extra };
}

describe('AclAuthorizer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rill-acl-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const can = (authorizer: AclAuthorizer, user: string, resourceType: AclBinding['resourceType'], name: string, operation: AclBinding['operation'], host = '127.0.0.1') =>
    authorizer.authorize({ principal: { type: 'User', name: user }, host, resourceType, resourceName: name, operation });

  it('matches literal, wildcard and prefixed patterns, and implies Describe from Read/Write/Delete/Alter', async () => {
    const authorizer = await AclAuthorizer.open(nodeFileSystem, dir);
    await authorizer.createAcls([
      allow('User:alice', ResourceType.TOPIC, 'orders', Op.WRITE),
      allow('User:alice', ResourceType.TOPIC, 'app-', Op.READ, { patternType: PatternType.PREFIXED }),
      allow('User:bob', ResourceType.TOPIC, '*', Op.DESCRIBE),
      allow('User:carol', ResourceType.TOPIC, 'configs', Op.ALTER_CONFIGS),
    ]);
    expect(can(authorizer, 'alice', ResourceType.TOPIC, 'orders', Op.WRITE)).toBe(true);
    expect(can(authorizer, 'alice', ResourceType.TOPIC, 'orders', Op.DESCRIBE)).toBe(true);
    expect(can(authorizer, 'alice', ResourceType.TOPIC, 'orders', Op.READ)).toBe(false);
    expect(can(authorizer, 'alice', ResourceType.TOPIC, 'orders-2', Op.WRITE)).toBe(false);
    expect(can(authorizer, 'alice', ResourceType.TOPIC, 'app-events', Op.READ)).toBe(true);
    expect(can(authorizer, 'alice', ResourceType.TOPIC, 'ap', Op.READ)).toBe(false);
    // A prefixed pattern is not a literal: the group of the same name is another resource type.
    expect(can(authorizer, 'alice', ResourceType.GROUP, 'app-events', Op.READ)).toBe(false);
    expect(can(authorizer, 'bob', ResourceType.TOPIC, 'anything', Op.DESCRIBE)).toBe(true);
    expect(can(authorizer, 'bob', ResourceType.TOPIC, 'anything', Op.READ)).toBe(false);
    expect(can(authorizer, 'carol', ResourceType.TOPIC, 'configs', Op.DESCRIBE_CONFIGS)).toBe(true);
    expect(can(authorizer, 'carol', ResourceType.TOPIC, 'configs', Op.DESCRIBE)).toBe(false);
  });

  it('lets DENY win over ALLOW, matches User:* and hosts, and bypasses for super users', async () => {
    const authorizer = await AclAuthorizer.open(nodeFileSystem, dir, { superUsers: ['User:root'] });
    await authorizer.createAcls([
      allow('User:*', ResourceType.TOPIC, 'shared', Op.ALL),
      { ...allow('User:mallory', ResourceType.TOPIC, 'shared', Op.WRITE), permissionType: AclPermission.DENY },
      allow('User:dave', ResourceType.GROUP, 'g', Op.READ, { host: '10.0.0.7' }),
      { ...allow('User:*', ResourceType.TOPIC, 'shared', Op.ALL), permissionType: AclPermission.DENY, host: '10.9.9.9' },
    ]);
    expect(can(authorizer, 'anyone', ResourceType.TOPIC, 'shared', Op.WRITE)).toBe(true);
    expect(can(authorizer, 'mallory', ResourceType.TOPIC, 'shared', Op.WRITE)).toBe(false);
    // DENY Write does not deny Describe, which ALLOW All still grants.
    expect(can(authorizer, 'mallory', ResourceType.TOPIC, 'shared', Op.DESCRIBE)).toBe(true);
    expect(can(authorizer, 'anyone', ResourceType.TOPIC, 'shared', Op.READ, '10.9.9.9')).toBe(false);
    expect(can(authorizer, 'dave', ResourceType.GROUP, 'g', Op.READ, '10.0.0.7')).toBe(true);
    expect(can(authorizer, 'dave', ResourceType.GROUP, 'g', Op.READ, '127.0.0.1')).toBe(false);
    expect(can(authorizer, 'root', ResourceType.CLUSTER, 'kafka-cluster', Op.ALTER)).toBe(true);
    expect(can(authorizer, 'root', ResourceType.TOPIC, 'shared', Op.WRITE, '10.9.9.9')).toBe(true);
  });

  it('applies allow.everyone.if.no.acl.found only to resources no ACL names', async () => {
    const open = await AclAuthorizer.open(nodeFileSystem, dir, { allowEveryoneIfNoAclFound: true });
    await open.createAcls([allow('User:alice', ResourceType.TOPIC, 'owned', Op.READ)]);
    expect(can(open, 'bob', ResourceType.TOPIC, 'unowned', Op.WRITE)).toBe(true);
    expect(can(open, 'bob', ResourceType.TOPIC, 'owned', Op.READ)).toBe(false);
    const closed = await AclAuthorizer.open(nodeFileSystem, dir);
    expect(can(closed, 'bob', ResourceType.TOPIC, 'unowned', Op.WRITE)).toBe(false);
  });

  it('authorizeAny: some ALLOW on the resource type, unless a DENY covers every resource', async () => {
    const authorizer = await AclAuthorizer.open(nodeFileSystem, dir);
    await authorizer.createAcls([
      allow('User:alice', ResourceType.TOPIC, 'app-', Op.WRITE, { patternType: PatternType.PREFIXED }),
      allow('User:bob', ResourceType.TOPIC, 'b', Op.WRITE),
      { ...allow('User:bob', ResourceType.TOPIC, '*', Op.WRITE), permissionType: AclPermission.DENY },
    ]);
    const any = (name: string) => authorizer.authorizeAny({ principal: { type: 'User', name }, host: '127.0.0.1', resourceType: ResourceType.TOPIC, operation: Op.WRITE });
    expect(any('alice')).toBe(true);
    expect(any('bob')).toBe(false);
    expect(any('carol')).toBe(false);
  });

  it('persists creations and deletions in acls.json across reopen', async () => {
    const first = await AclAuthorizer.open(nodeFileSystem, dir);
    const a = allow('User:alice', ResourceType.TOPIC, 'orders', Op.WRITE);
    const b = allow('User:bob', ResourceType.GROUP, 'g-', Op.READ, { patternType: PatternType.PREFIXED });
    await first.createAcls([a, b, a]);
    const any = { resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: Op.ANY, permissionType: AclPermission.ANY };
    expect(first.describeAcls(any)).toEqual([a, b]);
    const reopened = await AclAuthorizer.open(nodeFileSystem, dir);
    expect(reopened.describeAcls(any)).toEqual([a, b]);
    expect(reopened.describeAcls({ ...any, resourceName: 'g-1', patternType: PatternType.MATCH })).toEqual([b]);
    expect(await reopened.deleteAcls([{ ...any, principal: 'User:alice' }])).toEqual([[a]]);
    expect((await AclAuthorizer.open(nodeFileSystem, dir)).describeAcls(any)).toEqual([b]);
  });

  it('rejects a malformed binding from an in-process caller with INVALID_REQUEST and stores nothing of the call', async () => {
    const authorizer = await AclAuthorizer.open(nodeFileSystem, dir);
    const good = allow('User:alice', ResourceType.TOPIC, 'orders', Op.WRITE);
    const { permissionType: _, ...noPermission } = allow('User:bob', ResourceType.TOPIC, 'orders', Op.READ);
    await expect(authorizer.createAcls([good, noPermission as AclBinding])).rejects.toMatchObject({ errorName: 'INVALID_REQUEST', message: expect.stringMatching(/permission type/) });
    await expect(authorizer.createAcls([allow('bob', ResourceType.TOPIC, 'orders', Op.READ)])).rejects.toMatchObject({ errorName: 'INVALID_REQUEST', message: expect.stringMatching(/principal/) });
    const any = { resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: Op.ANY, permissionType: AclPermission.ANY };
    expect(authorizer.describeAcls(any)).toEqual([]);
    expect(can(authorizer, 'bob', ResourceType.TOPIC, 'orders', Op.READ)).toBe(false);
  });
});

describe('AuditLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rill-audit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes JSON lines, rotates once past maxBytes and stays bounded', () => {
    let now = 0;
    const log = new AuditLog({ dir, maxBytes: 2000, maxLinesPerSecond: 1_000_000, nowMs: () => now });
    for (let i = 0; i < 200; i++) {
      now += 1;
      log.denied({ principal: `User:u${i}`, host: '127.0.0.1', apiKey: 0, resourceType: 2, resourceName: 'orders', operation: 4 });
    }
    const path = join(dir, AUDIT_LOG_FILE);
    expect(statSync(path).size).toBeLessThanOrEqual(2000);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(2000);
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; principal: string });
    expect(lines.at(-1)).toMatchObject({ event: 'denied', principal: 'User:u199' });
    log.authenticationFailed({ host: '127.0.0.1', mechanism: 'PLAIN', reason: 'bad password' });
    expect(readFileSync(path, 'utf8')).toContain('"event":"authentication-failed"');
    expect(existsSync(`${path}.2`)).toBe(false);
  });

  it('counts lines over the per-second limit instead of writing them', () => {
    let now = 10_000;
    const log = new AuditLog({ dir, maxBytes: 1_000_000, maxLinesPerSecond: 3, nowMs: () => now });
    for (let i = 0; i < 10; i++) log.denied({ principal: 'User:x', host: 'h', apiKey: 0, resourceType: 2, resourceName: 't', operation: 4 });
    now += 1000;
    log.denied({ principal: 'User:y', host: 'h', apiKey: 0, resourceType: 2, resourceName: 't', operation: 4 });
    const lines = readFileSync(join(dir, AUDIT_LOG_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { suppressed?: number });
    expect(lines).toHaveLength(4);
    expect(lines[3]!.suppressed).toBe(7);
  });
});
