import { parsePrincipal } from '../auth/acl.ts';
import type { AuthorizerOptions } from '../auth/acl-authorizer.ts';
import { UsageError } from './parse-start-options.ts';

/**
 * Reads `--authorizer`, `--super-users User:a,User:b` and `--allow-everyone-if-no-acl-found` from
 * `rill start`'s settings: undefined (no authorizer, everything allowed) unless `--authorizer` is given.
 */
export function authorizerStartOptions(values: Readonly<Record<string, string | boolean | undefined>>): Partial<AuthorizerOptions> | undefined {
  const superUsersText = values['super-users'];
  const everyone = values['allow-everyone-if-no-acl-found'] === true;
  if (values['authorizer'] !== true) {
    if (typeof superUsersText === 'string' || everyone) throw new UsageError('--super-users and --allow-everyone-if-no-acl-found need --authorizer');
    return undefined;
  }
  const superUsers = typeof superUsersText === 'string' ? superUsersText.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
  for (const user of superUsers) {
    if (parsePrincipal(user) === undefined) throw new UsageError(`--super-users: "${user}" is not a principal like User:alice`);
  }
  return { superUsers, allowEveryoneIfNoAclFound: everyone };
}
