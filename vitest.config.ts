import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Vitest sets isolation per pool, not per project: unit tests run in the threads pool without
    // it, everything else in the forks pool with it.
    poolOptions: { threads: { isolate: false } },
    projects: [
      {
        extends: true,
        // Unit tests share one worker: a fresh process per file spent about a second importing the
        // broker's modules again, longer than most of these files run. They touch no global state
        // (no module mocks, fake timers or environment changes) and each uses its own temporary
        // directory. They run first, alone (groupOrder): pools of one group run side by side.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], pool: 'threads', sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // Integration, crash, runtime and browser tests keep a process per file: they start
        // servers and child processes, measure their own memory, and must not see each other's.
        test: {
          name: 'system',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          pool: 'forks',
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
