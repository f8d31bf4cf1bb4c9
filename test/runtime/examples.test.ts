import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand, runtimes } from '../helpers/child-process.ts';

describe.each(runtimes)('examples on %s', (runtime) => {
  it('embedded-broker writes, long-polls and reads back', async () => {
    const [command, args] = runtimeCommand(runtime, 'examples/embedded-broker.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(/wrote offsets 0\.\.2 \(fsynced\)/);
    expect(exit.stdout).toMatch(/long poll woke with \d+ bytes/);
    expect(exit.stdout).toMatch(/offset 3: o-4 3/);
    expect(exit.stdout).toMatch(/total 71/);
  });

  it('sdk-orders produces typed records and reads them back in a consumer group', async () => {
    const [command, args] = runtimeCommand(runtime, 'examples/sdk-orders.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(/sent o-3 to partition \d at offset \d/);
    expect(exit.stdout).toMatch(/read 4 orders, total 71/);
  });

  it('streams-orders runs a stateful job exactly once and reads the per-customer totals it committed', async () => {
    const [command, args] = runtimeCommand(runtime, 'examples/streams-orders.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(/Sub-topology: 1\n {4}Source: customer-totals-store-repartition-source/);
    expect(exit.stdout).toMatch(/ada: 3 orders, 70\.00 EUR\nbob: 2 orders, 90\.00 EUR/);
    expect(exit.stdout).toMatch(/job NOT_RUNNING: 10 records in/);
  });
});
