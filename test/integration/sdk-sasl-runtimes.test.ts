import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { runSdkSaslScenario, type SdkSaslReport } from '../runtime/sdk-sasl-scenario.ts';

function check(report: SdkSaslReport): void {
  expect(report.written).toEqual({ PLAIN: 5, 'SCRAM-SHA-256': 5, 'SCRAM-SHA-512': 5 });
  expect(report.wrongPassword).toBe('SASL_AUTHENTICATION_FAILED');
  expect(report.reauthenticated).toBeGreaterThanOrEqual(2);
  // No connection was cut at its session's end and reopened: every request after it rode a re-authenticated connection.
  expect(report.authenticatedAfter).toBe(report.authenticatedBefore);
  // The wrong password is the only failure.
  expect(report.failed).toBe(1);
  expect(report.mtlsPrincipal).toBe('User:CN=alice,OU=eng,O=acme,C=DE');
}

describe('the SDK TCP transport over TLS + SASL', () => {
  it('authenticates with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, fails a wrong password, and re-authenticates before its session ends; the listener names mTLS clients by certificate; on Node', async () => {
    check(await runSdkSaslScenario());
  });

  it.each(['bun', 'deno'] as const)('does the same on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/sdk-sasl-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    check(JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as SdkSaslReport);
  });
});
