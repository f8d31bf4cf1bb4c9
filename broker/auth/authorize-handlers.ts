import type { ApiKey, RequestBodies, RequestHeader, ResponseBodies } from '../../sdk/protocol/mod.ts';
import type { AnyApiHandler, ApiHandler, RequestContext } from '../kafka/api-handler.ts';
import type { ConnectionInfo } from '../kafka/kafka-connection.ts';
import { ANONYMOUS, type Principal } from './acl.ts';
import { type ApiGuard, type GuardTable, kafkaApiGuards } from './kafka-api-guards.ts';
import { clientHost, RequestAccess } from './request-access.ts';

/**
 * Decides who a request comes from when the connection did not authenticate (its principal is
 * `User:ANONYMOUS`). A principal the authentication layer set (SASL, mTLS) always wins; this hook
 * exists for embedders and for tests without SASL (mapping the request's client id to a user, for one).
 */
export type PrincipalResolver = (connection: ConnectionInfo, header: RequestHeader) => Principal | undefined;

export function requestPrincipal(connection: ConnectionInfo, header: RequestHeader, resolver: PrincipalResolver | undefined): Principal {
  const own = connection.principal;
  const authenticated = !(own.type === ANONYMOUS.type && own.name === ANONYMOUS.name);
  return authenticated ? own : (resolver?.(connection, header) ?? ANONYMOUS);
}

/**
 * Wraps every handler with its API's guard from `kafkaApiGuards`. The guards run only while the
 * broker has an authorizer; without one the handler is called as it is. A served API without a
 * guard is a broken invariant, so a new API cannot be served unchecked by accident.
 */
export function authorizeHandlers(handlers: readonly AnyApiHandler[], resolver?: PrincipalResolver, guards: GuardTable = kafkaApiGuards): AnyApiHandler[] {
  return handlers.map((handler) => {
    const guard = guards[handler.apiKey] as ApiGuard<typeof handler.apiKey> | undefined;
    if (guard === undefined) throw new Error(`invariant: api key ${handler.apiKey} is served without an authorization guard`);
    return guarded(handler as ApiHandler<typeof handler.apiKey>, guard, resolver) as AnyApiHandler;
  });
}

function guarded<K extends ApiKey>(handler: ApiHandler<K>, guard: ApiGuard<K>, resolver: PrincipalResolver | undefined): ApiHandler<K> {
  return {
    apiKey: handler.apiKey,
    minVersion: handler.minVersion,
    maxVersion: handler.maxVersion,
    handle(request: RequestBodies[K], context: RequestContext): Promise<ResponseBodies[K] | undefined> {
      const authorizer = context.broker.authorizer;
      if (authorizer === undefined) return handler.handle(request, context);
      const principal = requestPrincipal(context.connection, context.header, resolver);
      const access = new RequestAccess(authorizer, principal, clientHost(context.connection.remoteAddress), handler.apiKey);
      const outcome = guard(request, access, context);
      if (outcome.kind === 'deny') return Promise.resolve(outcome.response);
      const finish = outcome.finish;
      // Called synchronously, so the handler's side effects keep the connection's request order.
      const pending = handler.handle(outcome.request, context);
      return finish === undefined ? pending : pending.then((response) => (response === undefined ? undefined : finish(response)));
    },
  };
}
