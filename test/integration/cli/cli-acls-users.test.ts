import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SASL_PASSWORD_ENV } from '../../../broker/security/kafka-security-start-options.ts';
import { Admin, isKafkaError, TcpTransport } from '../../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../../helpers/broker-process.ts';
import { rillExit } from '../../helpers/rill-command.ts';
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.ts';

let certs: TestCertificates;
let broker: BrokerProcess;

/** The connection flags of a client of the SASL_SSL listener, as `user` (whose password is in RILL_SASL_PASSWORD). */
function as(user: string): string[] {
  return ['--bootstrap', broker.bootstrap, '--tls-ca', certs.caFile, '--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', user];
}

const ADMIN_ENV = { RILL_SASL_PASSWORD: 'admin-secret' };

beforeAll(async () => {
  certs = makeTestCertificates();
  process.env[SASL_PASSWORD_ENV] = 'admin-secret';
  try {
    broker = await startBrokerProcess({
      args: [
        '--kafka-tls-cert', certs.serverCertFile, '--kafka-tls-key', certs.serverKeyFile,
        '--kafka-sasl-mechanisms', 'SCRAM-SHA-256,SCRAM-SHA-512', '--kafka-sasl-user', 'admin',
        '--authorizer', '--super-users', 'User:admin',
      ],
    });
  } finally {
    delete process.env[SASL_PASSWORD_ENV];
  }
});

afterAll(async () => {
  await broker?.dispose();
  rmSync(certs.dir, { recursive: true, force: true });
});

async function createTopicAs(user: string, password: string, topic: string): Promise<unknown> {
  const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap], tls: { ca: readFileSync(certs.caFile) }, sasl: { mechanism: 'SCRAM-SHA-512', username: user, password } });
  try {
    await new Admin(transport).createTopics([{ name: topic }]);
    return 'created';
  } catch (error) {
    return error;
  } finally {
    await transport.close();
  }
}

describe('rill users and rill acls against a SASL_SSL listener with the authorizer', () => {
  it('creates users (password from the environment or stdin), lists and deletes them', async () => {
    const [fromEnv, fromStdin] = await Promise.all([
      rillExit(['users', 'create', 'alice', '--mechanism', 'SCRAM-SHA-512', 'SCRAM-SHA-256', '--iterations', '4096', ...as('admin')], { env: { ...ADMIN_ENV, RILL_USER_PASSWORD: 'alice-secret' } }),
      rillExit(['users', 'create', 'bob', '--mechanism', 'SCRAM-SHA-512', '--json', ...as('admin')], { env: ADMIN_ENV, stdin: 'bob-secret\n' }),
    ]);
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stdout).toBe('created SCRAM-SHA-512 and SCRAM-SHA-256 credentials for alice (4096 iterations)\n');
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual({ user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 8192 }] });

    const list = await rillExit(['users', 'list', '--json', ...as('bob')], { env: { RILL_SASL_PASSWORD: 'bob-secret' } });
    // bob authenticates with the password from stdin, but may not describe users (no ACL): one sentence, exit 1.
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/^rill: [^\n]*CLUSTER_AUTHORIZATION_FAILED|^rill: [^\n]*not authorized[^\n]*\n$/i);
    const [json, text] = await Promise.all([rillExit(['users', 'list', '--json', ...as('admin')], { env: ADMIN_ENV }), rillExit(['users', 'list', 'alice', ...as('alice')], { env: { RILL_SASL_PASSWORD: 'alice-secret' } })]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { user: 'admin', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }, { mechanism: 'SCRAM-SHA-512', iterations: 8192 }] },
      { user: 'alice', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
      { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 8192 }] },
    ]);
    expect(text.code).toBe(1);

    const [deleted, absent] = await Promise.all([
      rillExit(['users', 'delete', 'bob', ...as('admin')], { env: ADMIN_ENV }),
      rillExit(['users', 'delete', 'carol', ...as('admin')], { env: ADMIN_ENV }),
    ]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('deleted SCRAM-SHA-512 credentials of bob\n');
    expect(absent.code).toBe(1);
    expect(absent.stderr).toBe('rill: user carol has no SCRAM credentials\n');
    const after = await rillExit(['users', 'list', ...as('admin')], { env: ADMIN_ENV });
    expect(after.stdout).toBe(['USER   MECHANISM      ITERATIONS', 'admin  SCRAM-SHA-256  8192', 'admin  SCRAM-SHA-512  8192', 'alice  SCRAM-SHA-256  4096', 'alice  SCRAM-SHA-512  4096', ''].join('\n'));
  });

  it('creates ACLs that the broker enforces, lists them with filters, and deletes them', async () => {
    const env = { ...ADMIN_ENV, RILL_USER_PASSWORD: 'carol-secret' };
    expect((await rillExit(['users', 'create', 'carol', '--mechanism', 'SCRAM-SHA-512', ...as('admin')], { env })).code).toBe(0);
    const denied = await createTopicAs('carol', 'carol-secret', 'orders-1');
    expect(isKafkaError(denied, 'TOPIC_AUTHORIZATION_FAILED') || isKafkaError(denied, 'CLUSTER_AUTHORIZATION_FAILED'), String(denied)).toBe(true);

    const created = await rillExit(['acls', 'create', '--principal', 'User:carol', '--resource-type', 'topic', '--resource-name', 'orders-', '--pattern-type', 'prefixed', '--operation', 'create', 'describe', ...as('admin')], { env });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('created 2 ACLs\n');
    const deny = await rillExit(['acls', 'create', '--principal', 'User:carol', '--resource-type', 'topic', '--resource-name', 'orders-secret', '--operation', 'all', '--permission', 'deny', '--json', ...as('admin')], { env });
    expect(deny.code, deny.stderr).toBe(0);
    expect(JSON.parse(deny.stdout)).toEqual([{ principal: 'User:carol', host: '*', resourceType: 'topic', resourceName: 'orders-secret', patternType: 'literal', operation: 'all', permission: 'deny' }]);
    expect(await createTopicAs('carol', 'carol-secret', 'orders-1')).toBe('created');
    expect(isKafkaError(await createTopicAs('carol', 'carol-secret', 'orders-secret'), 'TOPIC_AUTHORIZATION_FAILED')).toBe(true);

    const [all, prefixed, matching, text] = await Promise.all([
      rillExit(['acls', 'list', '--json', ...as('admin')], { env }),
      rillExit(['acls', 'list', '--pattern-type', 'prefixed', '--operation', 'create', '--json', ...as('admin')], { env }),
      rillExit(['acls', 'list', '--resource-type', 'topic', '--resource-name', 'orders-secret', '--pattern-type', 'match', '--json', ...as('admin')], { env }),
      rillExit(['acls', 'list', '--principal', 'User:carol', '--permission', 'deny', ...as('admin')], { env }),
    ]);
    expect(JSON.parse(all.stdout)).toHaveLength(3);
    expect(JSON.parse(prefixed.stdout)).toEqual([{ principal: 'User:carol', host: '*', resourceType: 'topic', resourceName: 'orders-', patternType: 'prefixed', operation: 'create', permission: 'allow' }]);
    expect((JSON.parse(matching.stdout) as { resourceName: string }[]).map((a) => a.resourceName).sort()).toEqual(['orders-', 'orders-', 'orders-secret']);
    expect(text.stdout).toBe(
      ['PRINCIPAL   HOST  RESOURCE-TYPE  RESOURCE-NAME  PATTERN  OPERATION  PERMISSION', 'User:carol  *     topic          orders-secret  literal  all        deny', ''].join('\n'),
    );

    const removed = await rillExit(['acls', 'delete', '--principal', 'User:carol', '--operation', 'create', ...as('admin')], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/^deleted 1 ACL\nPRINCIPAL .*\nUser:carol +\* +topic +orders- +prefixed +create +allow\n$/);
    const left = await rillExit(['acls', 'list', '--principal', 'User:carol', '--json', ...as('admin')], { env });
    expect((JSON.parse(left.stdout) as { operation: string }[]).map((a) => a.operation).sort()).toEqual(['all', 'describe']);
  });

  it('rejects bad input with one sentence and exit 2, and failures with exit 1, before or without a stack trace', async () => {
    const env = ADMIN_ENV;
    const runs = await Promise.all([
      rillExit(['acls', 'create', '--resource-type', 'topic', '--resource-name', 't', '--operation', 'read', ...as('admin')], { env }),
      rillExit(['acls', 'create', '--principal', 'alice', '--resource-type', 'topic', '--resource-name', 't', '--operation', 'read', ...as('admin')], { env }),
      rillExit(['acls', 'create', '--principal', 'User:a', '--resource-type', 'topic', '--resource-name', 't', '--operation', 'fly', ...as('admin')], { env }),
      rillExit(['acls', 'create', '--principal', 'User:a', '--resource-type', 'topic', '--operation', 'read', ...as('admin')], { env }),
      rillExit(['acls', 'delete', ...as('admin')], { env }),
      rillExit(['users', 'create', 'dave', '--password', 'x', ...as('admin')], { env }),
      rillExit(['users', 'create', 'dave', ...as('admin')], { env }),
      rillExit(['users', 'create', 'dave', '--iterations', '100', ...as('admin')], { env: { ...env, RILL_USER_PASSWORD: 'p' } }),
      rillExit(['users', 'list', ...as('admin')]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(runs.map((r) => r.stderr)).toEqual([
      "rill: required option '--principal <principal>' not specified\n",
      'rill: --principal must be Type:name such as User:alice (User:* for everyone), got "alice" (see rill acls create --help)\n',
      "rill: option '--operation <operation...>' argument 'fly' is invalid. Allowed choices are all, read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write.\n",
      'rill: --resource-name is required for a topic ACL (see rill acls create --help)\n',
      'rill: acls delete needs at least one filter flag (--principal, --resource-type, --resource-name, ...): it deletes every ACL it selects (see rill acls delete --help)\n',
      "rill: unknown option '--password'\n",
      'rill: give the password in $RILL_USER_PASSWORD or on stdin (printf %s "$PASSWORD" | rill ...) (see rill users create --help)\n',
      'rill: --iterations must be a whole number from 4096 to 16384, got "100" (see rill users create --help)\n',
      'rill: --sasl-username needs the password in the RILL_SASL_PASSWORD environment variable (see rill users list --help)\n',
    ]);
    const [unreachable, verbose] = await Promise.all([rillExit(['acls', 'list', '--bootstrap', '127.0.0.1:1']), rillExit(['users', 'list', '--bootstrap', '127.0.0.1:1', '--verbose'])]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^rill: NETWORK_EXCEPTION: [^\n]*ECONNREFUSED[^\n]*\n$/);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^rill: NETWORK_EXCEPTION: [^\n]*\n[\s\S]*\n\s+at /);
    const wrongPassword = await rillExit(['acls', 'list', ...as('admin')], { env: { RILL_SASL_PASSWORD: 'wrong' } });
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr.split('\n')).toHaveLength(2);
    expect(wrongPassword.stderr).toMatch(/^rill: .*(SASL_AUTHENTICATION_FAILED|[Aa]uthentication failed)/);
  });

  it.each(['bun', 'deno'] as const)('lists users and ACLs on %s', async (runtime) => {
    const [users, acls] = await Promise.all([
      rillExit(['users', 'list', 'admin', '--json', ...as('admin')], { env: ADMIN_ENV, runtime }),
      rillExit(['acls', 'list', '--principal', 'User:nobody', '--json', ...as('admin')], { env: ADMIN_ENV, runtime }),
    ]);
    expect(users.code, users.stderr).toBe(0);
    expect((JSON.parse(users.stdout) as { user: string }[]).map((u) => u.user)).toEqual(['admin']);
    expect(acls.code, acls.stderr).toBe(0);
    expect(JSON.parse(acls.stdout)).toEqual([]);
  });
});
