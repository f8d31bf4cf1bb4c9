import { Broker } from '../broker.ts';
import { createHttpApp, type HttpApp } from '../http/http-app.ts';
import { httpStartOptions, isLoopbackHost } from '../http/http-start-options.ts';
import { type HttpServer, serveHttp } from '../http/serve.ts';
import { KafkaListener } from '../kafka/kafka-listener.ts';
import { parseStartOptions, UsageError } from './parse-start-options.ts';
import { authorizerStartOptions } from './authorizer-start-options.ts';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `rill start`: opens the broker, starts its listeners and serves until SIGINT or SIGTERM, then
 * shuts down cleanly: listeners stop accepting and answer what they have read, then the broker
 * flushes, checkpoints and unlocks. A second signal while shutting down exits at once.
 */
function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function startCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const config = parseStartOptions(args);
  const http = httpStartOptions(args);
  const host = config.host ?? '127.0.0.1';
  if (http.api.tokens === undefined && !http.allowUnauthenticated && !isLoopbackHost(host)) {
    throw new UsageError(
      `refusing to serve HTTP on ${host} without authentication: give --http-config with "tokens", or --allow-unauthenticated`,
    );
  }
  const authorizer = authorizerStartOptions(args);
  const broker = await Broker.open(authorizer === undefined ? { config } : { config, authorizer });
  return serveBroker(broker, http.api, io);
}

async function serveBroker(broker: Broker, httpOptions: Parameters<typeof createHttpApp>[1], io: CommandIo): Promise<number> {
  const { config } = broker;
  let kafka: KafkaListener;
  let httpApp: HttpApp;
  let httpServer: HttpServer;
  try {
    kafka = await KafkaListener.start(broker, {
      host: config.host,
      port: config.kafkaPort,
      limits: { onError: (error, remote) => io.err(`rill: closed connection from ${remote}: ${describeError(error)}`) },
      ...(config.advertisedHost === null ? {} : { advertisedHost: config.advertisedHost }),
    });
  } catch (error) {
    await broker.close();
    throw error;
  }
  try {
    httpApp = await createHttpApp(broker, httpOptions);
    const { app } = httpApp;
    httpServer = await serveHttp((request, env) => app.fetch(request, env), { host: config.host, port: config.httpPort });
  } catch (error) {
    await kafka.close();
    await broker.close();
    throw error;
  }
  // Handlers go in before the ready line, so a signal sent as soon as it appears is handled.
  const signal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const topics = broker.listTopics({ includeInternal: true });
  io.out(`rill: kafka listening on ${config.host}:${kafka.port} (advertised ${kafka.advertised.host}:${kafka.advertised.port})`);
  io.out(`rill: http listening on ${config.host}:${httpServer.port}`);
  io.out(`rill: broker ready, data in ${config.dataDir} (${topics.length} topic${topics.length === 1 ? '' : 's'})`);
  const received = await signal;
  const forceExit = (): void => {
    io.err('rill: second signal, exiting without a clean shutdown');
    process.exit(130);
  };
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  io.out(`rill: ${received} received, shutting down`);
  httpApp.close();
  await httpServer.close();
  await kafka.close();
  await broker.close();
  io.out('rill: stopped cleanly');
  return 0;
}
