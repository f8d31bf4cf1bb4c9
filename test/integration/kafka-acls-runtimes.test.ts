import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { type AclReport, runAclScenario } from '../runtime/acl-scenario.ts';

function check(report: AclReport): void {
  expect(report.allowedProduce).toBe('ok');
  expect(report.deniedProduce).toBe('TOPIC_AUTHORIZATION_FAILED');
  expect(report.topicsBobSees).toEqual([]);
  expect(report.recordsOnTopic).toBe(1);
  expect(report.deniedCreateAcls).toBe('CLUSTER_AUTHORIZATION_FAILED');
}

describe('Kafka ACLs behind SASL', () => {
  it('allow a prefixed grant, deny a principal with no ACL (nothing appended, nothing shown), on Node', async () => {
    check(await runAclScenario());
  });

  it.each(['bun', 'deno'] as const)('does the same on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/acl-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    check(JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as AclReport);
  });
});
