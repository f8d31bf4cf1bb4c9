import { runShareGroupScenario } from './share-group-scenario.ts';

/** Runs the share-group scenario in this runtime; prints one JSON line. */
const report = await runShareGroupScenario();
process.stdout.write(`${JSON.stringify(report)}\n`);
