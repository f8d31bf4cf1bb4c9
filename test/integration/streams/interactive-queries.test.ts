import { describe, expect, it } from 'vitest';
import { runInteractiveQueriesScenario } from '../../runtime/interactive-queries-scenario.ts';
import { embeddedSetup, setupHooks, tcpSetup } from '../../helpers/streams-setups.ts';

const CHECKS = 35;

/** One instance's stores over the SDK and its HTTP server on 127.0.0.1 (test/runtime/interactive-queries-scenario.ts). */
describe.each([embeddedSetup(), tcpSetup()])('interactive queries over $name', (setup) => {
  const { openSetup } = setupHooks(setup);

  it('answers lookups, ranges, window and session fetches as the job wrote them, and rejects bad queries', async () => {
    const { transport, stateDir } = await openSetup();
    const passed = await runInteractiveQueriesScenario(transport, stateDir, '');
    expect(passed).toHaveLength(CHECKS);
  });
});
