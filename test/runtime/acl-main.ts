import { runAclScenario } from './acl-scenario.ts';

/** Runs the ACL scenario in this runtime; prints one JSON line. */
const report = await runAclScenario();
process.stdout.write(`${JSON.stringify(report)}\n`);
