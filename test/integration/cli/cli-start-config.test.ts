import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startConfigReference } from '../../../broker/cli/start-config-reference.ts';
import { ManagedProcess, repoRoot, runtimeCommand, type Runtime } from '../../helpers/child-process.ts';

const dirs: string[] = [];
const processes: ManagedProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-start-config-'));
  dirs.push(dir);
  return dir;
}

/** `rill <args>` with extra environment variables (through env(1), so the test process's environment stays as it is). */
function rill(args: string[], env: Record<string, string> = {}, runtime: Runtime = 'node'): ManagedProcess {
  const [command, argv] = runtimeCommand(runtime, 'broker/cli/main.ts', args);
  const proc = new ManagedProcess('/usr/bin/env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), command, ...argv]);
  processes.push(proc);
  return proc;
}

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('rill start --config', () => {
  it('takes each setting from the flag, else its environment variable, else the file', async () => {
    const dir = tempDir();
    const config = join(dir, 'rill.yaml');
    writeFileSync(config, `# ports 0: the OS picks\ndata-dir: ${join(dir, 'from-file')}\nkafka-port: 0\nhttp-port: 0\nkafka-sasl-mechanisms: [SCRAM-SHA-512]\n`);
    const env = { RILL_DATA_DIR: join(dir, 'from-env') };
    const [flag, fromEnv, fromFile] = [
      rill(['start', '--config', config, '--data-dir', join(dir, 'from-flag')], env),
      rill(['start', '--config', config], env),
      rill(['start'], { RILL_CONFIG: config }),
    ];
    expect(await flag.waitForLine(/broker ready/)).toContain(join(dir, 'from-flag'));
    expect(await fromEnv.waitForLine(/broker ready/)).toContain(join(dir, 'from-env'));
    expect(await fromFile.waitForLine(/broker ready/)).toContain(join(dir, 'from-file'));
    expect(fromFile.stdout).toMatch(/kafka listening on .*SASL_PLAINTEXT/);
    const stopped = await Promise.all([flag, fromEnv, fromFile].map((p) => p.stop('SIGTERM')));
    for (const exit of stopped) expect(exit.code, exit.stderr).toBe(0);
  });

  it('reads JSON too, and reports every bad key of a file at once, one sentence each, with exit code 2', async () => {
    const dir = tempDir();
    const yaml = join(dir, 'bad.yaml');
    writeFileSync(
      yaml,
      ['kafka-prot: 9092', 'dataDir: ./d', 'http-port: eighty', 'authorizer: yes', 'host: 42', 'kafka-tls-client-auth: sometimes', 'kafka-sasl-mechanisms: [PLAIN, GSSAPI]', 'super-users: { admin: true }', 'kafka-tls-key: /nonexistent/key.pem', ''].join('\n'),
    );
    const bad = await rill(['start', '--config', yaml]).exit();
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trimEnd().split('\n')).toEqual([
      `rill: ${yaml}: unknown key "kafka-prot" (did you mean kafka-port?)`,
      `rill: ${yaml}: unknown key "dataDir" (did you mean data-dir?)`,
      `rill: ${yaml}: http-port must be a port number from 0 to 65535, got "eighty"`,
      `rill: ${yaml}: authorizer must be true or false, got "yes" (a string)`,
      `rill: ${yaml}: host must be a string, got 42 (a number)`,
      `rill: ${yaml}: kafka-tls-client-auth must be one of none, requested, required, got "sometimes"`,
      `rill: ${yaml}: kafka-sasl-mechanisms has "GSSAPI", not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`,
      `rill: ${yaml}: super-users must be a list of strings or a comma-separated string, got a mapping`,
      `rill: ${yaml}: kafka-tls-key names a file that does not exist: "/nonexistent/key.pem"`,
    ]);

    const json = join(dir, 'bad.json');
    writeFileSync(json, JSON.stringify({ 'kafka-port': 70000, 'allow-unauthenticated': 'true', 'max-partitions': 0 }));
    const badJson = await rill(['start', '--config', json]).exit();
    expect(badJson.code).toBe(2);
    expect(badJson.stderr.trimEnd().split('\n')).toEqual([
      `rill: ${json}: kafka-port must be a port number from 0 to 65535, got "70000"`,
      `rill: ${json}: allow-unauthenticated must be true or false, got "true" (a string)`,
      `rill: ${json}: max-partitions must be a whole number from 1 up, got "0"`,
    ]);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"kafka-port": ');
    const [unparsable, missing, list, badEnv] = await Promise.all([
      rill(['start', '--config', broken]).exit(),
      rill(['start', '--config', join(dir, 'absent.yaml')]).exit(),
      (writeFileSync(join(dir, 'list.yaml'), '- data-dir\n'), rill(['start', '--config', join(dir, 'list.yaml')]).exit()),
      rill(['start', '--kafka-port', '0'], { RILL_HTTP_PORT: 'x', RILL_AUTHORIZER: 'maybe' }).exit(),
    ]);
    expect(unparsable.code).toBe(2);
    expect(unparsable.stderr).toMatch(new RegExp(`^rill: ${broken} is not valid YAML or JSON: .+ \\(see rill start --help\\)\\n$`));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`rill: cannot read the config file ${join(dir, 'absent.yaml')}: ENOENT (see rill start --help)\n`);
    expect(list.stderr).toBe(`rill: ${join(dir, 'list.yaml')} must hold a mapping of settings (key: value), not a list (see rill start --help)\n`);
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr.trimEnd().split('\n')).toEqual(['rill: RILL_HTTP_PORT must be a port number from 0 to 65535, got "x"', 'rill: RILL_AUTHORIZER must be true or false, got "maybe"']);
    const httpConfig = join(dir, 'http.json');
    writeFileSync(httpConfig, '{"tokens": 5}');
    const badHttp = await rill(['start', '--http-config', httpConfig]).exit();
    expect(badHttp.code).toBe(2);
    expect(badHttp.stderr).toBe(`rill: --http-config ${httpConfig}: http config: "tokens" must be an array (see rill start --help)\n`);
    for (const exit of [bad, badJson, unparsable, missing, list, badEnv, badHttp]) expect(exit.stderr).not.toMatch(/\n\s+at /);
  });

  it('turns a boolean variable on with true and leaves it off with false', async () => {
    const dir = tempDir();
    // --super-users needs --authorizer: on with RILL_AUTHORIZER=true, an error with false.
    const [on, off] = [
      rill(['start', '--data-dir', join(dir, 'a'), '--kafka-port', '0', '--http-port', '0', '--super-users', 'User:admin'], { RILL_AUTHORIZER: 'true' }),
      rill(['start', '--data-dir', join(dir, 'b'), '--kafka-port', '0', '--http-port', '0', '--super-users', 'User:admin'], { RILL_AUTHORIZER: 'false' }),
    ];
    await on.waitForLine(/broker ready/);
    const refused = await off.exit();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('rill: --super-users and --allow-everyone-if-no-acl-found need --authorizer (see rill start --help)\n');
    expect((await on.stop('SIGTERM')).code).toBe(0);
  });
});

describe('the configuration reference', () => {
  it('is printed by rill start --print-config-reference, and the README carries it as generated', async () => {
    const printed = await rill(['start', '--print-config-reference']).exit();
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(`${startConfigReference()}\n`);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const block = /<!-- start-config:begin -->\n([\s\S]*?)\n<!-- start-config:end -->/.exec(readme);
    expect(block, 'README.md has a start-config block').not.toBeNull();
    expect(block![1]).toBe(startConfigReference());
  });

  it('lists every setting with its variable in rill start --help, on Bun and Deno too', async () => {
    const exits = await Promise.all((['node', 'bun', 'deno'] as const).map((runtime) => rill(['start', '--help'], {}, runtime).exit()));
    for (const help of exits) {
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/--kafka-port <port> +Kafka protocol port[^-]*\(default: 9092, env: RILL_KAFKA_PORT\)/);
      expect(help.stdout).toMatch(/--kafka-tls-client-auth <mode>[\s\S]*choices: "none",\s+"requested",\s+"required"[\s\S]*env:\s+RILL_KAFKA_TLS_CLIENT_AUTH/);
      expect(help.stdout).toContain('--config <file>');
    }
  });
});
