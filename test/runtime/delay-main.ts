import { runDelayScenario } from './delay-scenario.ts';

/** Runs the delayed-delivery scenario in this runtime; prints one JSON line. */
const report = await runDelayScenario();
process.stdout.write(`${JSON.stringify(report)}\n`);
