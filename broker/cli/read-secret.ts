import { UsageError } from './cli-errors.ts';

/** Bounds what is read from stdin for a secret: a password is short. */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * A secret from an environment variable, else from stdin (its first line), never from a flag (flags
 * show in `ps` and shell history). A terminal on stdin is refused rather than echoing the secret.
 */
export async function readSecret(env: Readonly<Record<string, string | undefined>>, variable: string, what: string): Promise<string> {
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const help = `give the ${what} in $${variable} or on stdin (printf %s "$PASSWORD" | rill ...)`;
  if (process.stdin.isTTY === true) throw new UsageError(help);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SECRET_BYTES) throw new UsageError(`the ${what} on stdin is longer than ${MAX_SECRET_BYTES} bytes`);
    chunks.push(chunk);
  }
  const secret = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (secret === '') throw new UsageError(help);
  return secret;
}
