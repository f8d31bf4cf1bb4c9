import { runSdkSaslScenario } from './sdk-sasl-scenario.ts';

/** Runs the SDK TLS + SASL scenario in this runtime; prints one JSON line. */
const report = await runSdkSaslScenario();
process.stdout.write(`${JSON.stringify(report)}\n`);
