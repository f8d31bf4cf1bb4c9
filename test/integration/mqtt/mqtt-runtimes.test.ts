import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../../helpers/child-process.ts';
import { type MqttReport, runMqttScenario } from '../../runtime/mqtt-scenario.ts';

function check(report: MqttReport): void {
  for (const version of ['4', '5']) {
    expect(report.delivered[version]!.sort()).toEqual([`rt/d${version}/v q0 0`, `rt/d${version}/v q1 1`, `rt/d${version}/v q2 1`]);
  }
  expect(report.logged).toEqual(['d4 q1 1', 'd4 q2 2', 'd4 q0 0', 'd5 q1 1', 'd5 q2 2', 'd5 q0 0']);
  expect(report.qos2Copies).toBe(1);
  expect(report.sessionPresentOnRetry).toBe(true);
  expect(report.mqtts).toEqual({ delivered: 'secure/s-1 sealed 1', logged: ['sealed'], plaintextAnswerBytes: 0, certificateLoginServed: true, servedAfterPlaintext: true, errorsReported: 1 });
}

describe('the MQTT listener', () => {
  it('serves mqtt.js 3.1.1 and 5.0 at QoS 0/1/2 with wildcard delivery, appends a retried QoS 2 message once, and serves mqtts (client certificate login, plaintext clients dropped); on Node', async () => {
    check(await runMqttScenario());
  });

  it.each(['bun', 'deno'] as const)('does the same on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/mqtt-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    check(JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as MqttReport);
  });
});
