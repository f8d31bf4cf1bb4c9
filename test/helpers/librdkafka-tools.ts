import { execFile, spawnSync } from 'node:child_process';

/**
 * librdkafka's clients for interop tests: Debian's `kcat` and `python3-confluent-kafka` under
 * /usr/bin/python3 (`.ci/run` installs both). Missing tools fail the tests that need them with
 * how to install them; only RILL_SKIP_LIBRDKAFKA=1 skips those tests, so CI never skips them silently.
 */
export const PYTHON = '/usr/bin/python3';
export const SKIP_LIBRDKAFKA = process.env['RILL_SKIP_LIBRDKAFKA'] === '1';

/** Why librdkafka's tools cannot run here, or undefined when both can. */
export function missingLibrdkafkaTools(): string | undefined {
  const problems: string[] = [];
  if (spawnSync('kcat', ['-V'], { encoding: 'utf8' }).status !== 0) problems.push('kcat is not on PATH');
  const python = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { encoding: 'utf8' });
  if (python.status !== 0) problems.push(`${PYTHON} cannot import confluent_kafka (${(python.stderr ?? String(python.error)).trim().split('\n').pop()})`);
  if (problems.length === 0) return undefined;
  return `${problems.join('; ')}. Install them with \`apt-get install -y kcat python3-confluent-kafka\` (as .ci/run does), or set RILL_SKIP_LIBRDKAFKA=1 to skip these tests.`;
}

/** Runs a command to completion with `input` on stdin; rejects with its stderr if it fails. */
export function run(command: string, args: readonly string[], input = '', timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

/** librdkafka's version as confluent-kafka reports it, e.g. "2.0.2". */
export async function librdkafkaVersion(): Promise<string> {
  return (await run(PYTHON, ['-c', 'import confluent_kafka; print(confluent_kafka.libversion()[0])'])).trim();
}
