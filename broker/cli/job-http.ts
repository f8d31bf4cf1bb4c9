import type { StreamsApp } from '../../streams/runtime/streams-app.ts';
import { startAppServer } from '../../streams/server/app-server.ts';

/** The application's HTTP server as `rill run` holds it: its address, and a way to stop it. */
export interface JobHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts `rill run --http-port N`'s server for the application (interactive queries, /metrics,
 * /health: streams/server/app-server.ts) before the application starts, so the application
 * advertises it to the other instances in its group as its `application.server`.
 */
export async function startJobHttp(app: StreamsApp, host: string, port: number): Promise<JobHttpServer> {
  const server = await startAppServer(app, { hostname: host, port });
  return { url: server.url, port: server.port, close: () => server.close() };
}
