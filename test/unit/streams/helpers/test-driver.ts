import type { Topology } from '../../../../streams/mod.ts';
import { type TestDriverOptions, TopologyTestDriver } from '../../../../streams/mod.ts';
import { openInMemoryTaskStore } from './in-memory-task-store.ts';

/**
 * The test driver with the tests' in-memory store. Once the state layer's store lands, drop
 * `openStore` here and every stateful DSL test runs on the real one.
 */
export function testDriver(topology: Topology, options: TestDriverOptions = {}): TopologyTestDriver {
  return new TopologyTestDriver(topology, { openStore: openInMemoryTaskStore, ...options });
}
