import { describe, expect, it } from 'vitest';
import { authorizerStartOptions } from '../../../../broker/cli/authorizer-start-options.ts';
import { parseStartOptions } from '../../../../broker/cli/parse-start-options.ts';

describe('rill start authorizer flags', () => {
  it('enables the authorizer only with --authorizer, with super users and the no-ACL default', () => {
    expect(authorizerStartOptions({ 'data-dir': 'd' })).toBeUndefined();
    const args = { authorizer: true, 'super-users': 'User:admin, User:ops', 'allow-everyone-if-no-acl-found': true, 'data-dir': 'd' };
    expect(authorizerStartOptions(args)).toEqual({ superUsers: ['User:admin', 'User:ops'], allowEveryoneIfNoAclFound: true });
    expect(parseStartOptions(args)).toEqual({ dataDir: 'd' });
    expect(authorizerStartOptions({ authorizer: true })).toEqual({ superUsers: [], allowEveryoneIfNoAclFound: false });
  });

  it('rejects super users without the authorizer and malformed principals', () => {
    expect(() => authorizerStartOptions({ 'super-users': 'User:admin' })).toThrow(/need --authorizer/);
    expect(() => authorizerStartOptions({ authorizer: true, 'super-users': 'admin' })).toThrow(/not a principal/);
  });
});
