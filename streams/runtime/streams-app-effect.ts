import { Effect, type Scope } from 'effect';
import type { Topology } from '../topology/topology.ts';
import { StreamsApp } from './streams-app.ts';
import type { StreamsConfig } from './streams-config.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';

function asStreamsError(error: unknown): StreamsError {
  return error instanceof StreamsError ? error : new StreamsError(StreamsErrorCode.fatal, error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * The application as a scoped resource: started when acquired, closed (a last commit, leaving
 * the group) when its scope closes, including on interruption.
 *
 * ```ts
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const app = yield* streamsApp(topology, config);
 *   yield* awaitStreamsApp(app);   // runs until interrupted or failed
 * }));
 * ```
 */
export function streamsApp(topology: Topology, config: StreamsConfig): Effect.Effect<StreamsApp, StreamsError, Scope.Scope> {
  return Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const app = new StreamsApp(topology, config);
        await app.start();
        return app;
      },
      catch: asStreamsError,
    }),
    (app) => Effect.promise(() => app.close()),
  );
}

/** Waits while the application runs: fails with what stopped it, never succeeds before it is closed. */
export function awaitStreamsApp(app: StreamsApp): Effect.Effect<void, StreamsError> {
  return Effect.tryPromise({ try: () => app.stopped, catch: asStreamsError });
}
