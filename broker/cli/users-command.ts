import { type Command, Option } from 'commander';
import { Admin } from '../../sdk/client/admin/admin.ts';
import type { ScramMechanismName } from '../../sdk/auth/scram.ts';
import { CliFailure, UsageError } from './cli-errors.ts';
import { addOutputOptions, type CliContext, exitCodeOf } from './cli-program.ts';
import { addConnectionOptions, type ConnectionFlags } from './connection-options.ts';
import { readSecret } from './read-secret.ts';
import { textTable } from './text-table.ts';
import { withClient } from './client-session.ts';

/** The environment variable holding the password `rill users create` sets (else stdin; never a flag). */
export const USER_PASSWORD_ENV = 'RILL_USER_PASSWORD';

const MECHANISMS: readonly ScramMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
/** Kafka's bounds on PBKDF2 iterations. */
const MIN_ITERATIONS = 4096;
const MAX_ITERATIONS = 16_384;

interface UserFlags extends ConnectionFlags {
  mechanism?: ScramMechanismName[];
  iterations?: string;
  json?: boolean;
}

function iterationsOf(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < MIN_ITERATIONS || n > MAX_ITERATIONS) throw new UsageError(`--iterations must be a whole number from ${MIN_ITERATIONS} to ${MAX_ITERATIONS}, got "${text}"`);
  return n;
}

function checkUser(name: string): void {
  if (name.trim() === '') throw new UsageError('the user name must not be empty');
}

/** `rill users create|list|delete`: SCRAM credentials over AlterUserScramCredentials and DescribeUserScramCredentials. */
export function addUsersCommand(program: Command, context: CliContext): void {
  const users = program.command('users').description('create, list or delete SCRAM users (credentials for SASL SCRAM-SHA-256/512 and PLAIN)');

  const create = users
    .command('create')
    .description(`give a user SCRAM credentials (replacing those of the same mechanism); the password comes from $${USER_PASSWORD_ENV} or stdin, never a flag`)
    .argument('<user>', 'the user name (the principal User:<user>)')
    .addOption(new Option('--mechanism <mechanism...>', 'the SCRAM mechanisms to create').choices(MECHANISMS).default(['SCRAM-SHA-256']))
    .option('--iterations <n>', `PBKDF2 iterations, ${MIN_ITERATIONS} to ${MAX_ITERATIONS}`, '8192');
  addConnectionOptions(addOutputOptions(create));
  create.action(
    exitCodeOf(context, async (user: string, flags: UserFlags) => {
      checkUser(user);
      const iterations = iterationsOf(flags.iterations!);
      const mechanisms = [...new Set(flags.mechanism!)];
      const password = await readSecret(context.env, USER_PASSWORD_ENV, 'password');
      return withClient(flags, context.env, async (transport) => {
        await new Admin(transport).alterScramCredentials({ upsertions: mechanisms.map((mechanism) => ({ user, mechanism, password, iterations })) });
        if (flags.json === true) context.io.out(JSON.stringify({ user, credentials: mechanisms.map((mechanism) => ({ mechanism, iterations })) }));
        else context.io.out(`created ${mechanisms.join(' and ')} credentials for ${user} (${iterations} iterations)`);
        return 0;
      });
    }),
  );

  const list = users.command('list').description('list the users with SCRAM credentials (never the credentials)').argument('[users...]', 'only these users');
  addConnectionOptions(addOutputOptions(list));
  list.action(
    exitCodeOf(context, (names: string[], flags: UserFlags) =>
      withClient(flags, context.env, async (transport) => {
        const described = await new Admin(transport).describeScramCredentials(names.length === 0 ? undefined : names);
        const sorted = described.sort((a, b) => (a.user < b.user ? -1 : 1));
        if (flags.json === true) context.io.out(JSON.stringify(sorted));
        else if (sorted.length === 0) context.io.out('no users');
        else context.io.out(textTable([['USER', 'MECHANISM', 'ITERATIONS'], ...sorted.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, String(c.iterations)]))]).join('\n'));
        return 0;
      }),
    ),
  );

  const remove = users
    .command('delete')
    .description("delete a user's SCRAM credentials")
    .argument('<user>', 'the user name')
    .addOption(new Option('--mechanism <mechanism...>', 'only these mechanisms (default: every one the user has)').choices(MECHANISMS));
  addConnectionOptions(addOutputOptions(remove));
  remove.action(
    exitCodeOf(context, (user: string, flags: UserFlags) => {
      checkUser(user);
      return withClient(flags, context.env, async (transport) => {
        const admin = new Admin(transport);
        const has = (await admin.describeScramCredentials()).find((u) => u.user === user)?.credentials.map((c) => c.mechanism) ?? [];
        const mechanisms = flags.mechanism === undefined ? has : [...new Set(flags.mechanism)];
        const missing = mechanisms.filter((m) => !has.includes(m));
        if (mechanisms.length === 0 || missing.length > 0) {
          throw new CliFailure(has.length === 0 ? `user ${user} has no SCRAM credentials` : `user ${user} has no ${missing.join(' or ')} credentials (it has ${has.join(' and ')})`);
        }
        await admin.alterScramCredentials({ deletions: mechanisms.map((mechanism) => ({ user, mechanism })) });
        if (flags.json === true) context.io.out(JSON.stringify({ user, deleted: mechanisms }));
        else context.io.out(`deleted ${mechanisms.join(' and ')} credentials of ${user}`);
        return 0;
      });
    }),
  );
}
