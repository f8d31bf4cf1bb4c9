import type { StreamsApp } from '../../streams/runtime/streams-app.ts';
import { UsageError } from './parse-start-options.ts';

/** The application's HTTP server as `rill run` holds it: its bound port, and a way to stop it. */
export interface JobHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Where `rill run --http-port N` starts the running application's HTTP server (interactive
 * queries, /metrics, /health), once the application started and before its ready line.
 * That server is built separately (issue 14, interactive queries); until it is wired in here,
 * asking for it is refused rather than silently ignored.
 */
export async function startJobHttp(_app: StreamsApp, _host: string, port: number): Promise<JobHttpServer> {
  throw new UsageError(`--http-port ${port}: this rill build has no HTTP server for streams applications yet`);
}
