import { runShareHttpScenario } from './share-http-scenario.ts';

/** Runs the HTTP share-group scenario in this runtime; prints one JSON line. */
const report = await runShareHttpScenario();
process.stdout.write(`${JSON.stringify(report)}\n`);
