import { runMqttScenario } from './mqtt-scenario.ts';

/** Runs the MQTT scenario in this runtime; prints one JSON line. */
const report = await runMqttScenario();
process.stdout.write(`${JSON.stringify(report)}\n`);
