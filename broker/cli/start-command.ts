import { Broker } from '../broker.ts';
import { createHttpApp, type HttpApp } from '../http/http-app.ts';
import { httpStartOptions, isLoopbackHost } from '../http/http-start-options.ts';
import { type FetchHandler, type HttpServer, serveHttp } from '../http/serve.ts';
import { type HttpsServer, serveHttps } from '../http/serve-tls.ts';
import { httpTlsStartOptions } from '../http/http-tls-start-options.ts';
import type { TlsListenerOptions } from '../security/tls-config.ts';
import { KafkaListener } from '../kafka/kafka-listener.ts';
import { MqttListener } from '../mqtt/mqtt-listener.ts';
import { type MqttStartOptions, mqttStartOptions } from '../mqtt/mqtt-start-options.ts';
import { mqttWebSocketEndpoint } from '../mqtt/mqtt-websocket-endpoint.ts';
import { isAuthenticatedListener, type KafkaSecurityStartOptions, kafkaSecurityStartOptions } from '../security/kafka-security-start-options.ts';
import { parseStartOptions, UsageError } from './parse-start-options.ts';
import { authorizerStartOptions } from './authorizer-start-options.ts';
import type { CommandIo } from './cli-io.ts';
import type { StartValues } from './start-option-definitions.ts';

export type { CommandIo } from './cli-io.ts';

/**
 * `rill start`: opens the broker, starts its listeners and serves until SIGINT or SIGTERM, then
 * shuts down cleanly: listeners stop accepting and answer what they have read, then the broker
 * flushes, checkpoints and unlocks. A second signal while shutting down exits at once.
 */
function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function startCommand(values: StartValues, io: CommandIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const config = parseStartOptions(values);
  let http: ReturnType<typeof httpStartOptions>;
  try {
    http = httpStartOptions(values);
  } catch (error) {
    throw new UsageError(`--http-config ${String(values['http-config'])}: ${describeError(error)}`);
  }
  let httpTls: TlsListenerOptions | undefined;
  try {
    httpTls = httpTlsStartOptions(values);
  } catch (error) {
    throw new UsageError(describeError(error));
  }
  const host = config.host ?? '127.0.0.1';
  if (http.api.tokens === undefined && httpTls?.clientAuth !== 'required' && !http.allowUnauthenticated && !isLoopbackHost(host)) {
    throw new UsageError(
      `refusing to serve HTTP on ${host} without authentication: give --http-config with "tokens" (or --http-tls-client-auth required), or --allow-unauthenticated`,
    );
  }
  let security: KafkaSecurityStartOptions;
  try {
    security = kafkaSecurityStartOptions(values, env);
  } catch (error) {
    throw new UsageError(describeError(error));
  }
  if (!isAuthenticatedListener(security) && !http.allowUnauthenticated && !isLoopbackHost(host)) {
    throw new UsageError(
      `refusing to serve Kafka on ${host} without authentication: give --kafka-sasl-mechanisms (or --kafka-tls-client-auth required), or --allow-unauthenticated`,
    );
  }
  let mqtt: MqttStartOptions | undefined;
  try {
    mqtt = mqttStartOptions(values);
  } catch (error) {
    throw new UsageError(describeError(error));
  }
  const authorizer = authorizerStartOptions(values);
  const broker = await Broker.open(authorizer === undefined ? { config } : { config, authorizer });
  try {
    const user = security.bootstrapUser;
    if (user !== undefined && broker.scramCredentials.credentialsOf(user.name).length === 0) {
      await broker.scramCredentials.setPassword(user.name, 'SCRAM-SHA-256', user.password);
      await broker.scramCredentials.setPassword(user.name, 'SCRAM-SHA-512', user.password);
      io.out(`rill: created SCRAM credentials for user ${user.name}`);
    }
  } catch (error) {
    await broker.close();
    throw error;
  }
  return serveBroker(broker, http.api, httpTls, security, io, mqtt === undefined ? undefined : { ...mqtt, allowAnonymous: http.allowUnauthenticated || isLoopbackHost(host) });
}

async function serveBroker(
  broker: Broker,
  httpOptions: Parameters<typeof createHttpApp>[1],
  httpTls: TlsListenerOptions | undefined,
  security: KafkaSecurityStartOptions,
  io: CommandIo,
  mqttOptions?: MqttStartOptions & { allowAnonymous: boolean },
): Promise<number> {
  const { config } = broker;
  let kafka: KafkaListener;
  let httpApp: HttpApp;
  let httpServer: HttpServer;
  let httpsServer: HttpsServer | undefined;
  let mqtt: MqttListener | undefined;
  try {
    kafka = await KafkaListener.start(broker, {
      host: config.host,
      port: config.kafkaPort,
      limits: { onError: (error, remote) => io.err(`rill: closed connection from ${remote}: ${describeError(error)}`) },
      ...(config.advertisedHost === null ? {} : { advertisedHost: config.advertisedHost }),
      ...(security.tls === undefined ? {} : { tls: security.tls }),
      ...(security.sasl === undefined ? {} : { sasl: security.sasl }),
    });
  } catch (error) {
    await broker.close();
    throw error;
  }
  try {
    httpApp = await createHttpApp(broker, { ...httpOptions, kafkaTraffic: kafka.traffic });
    const { app } = httpApp;
    const fetch: FetchHandler = (request, env) => app.fetch(request, env);
    const listen = { host: config.host, port: config.httpPort, ...(mqttOptions === undefined ? {} : { webSocket: mqttWebSocketEndpoint(() => mqtt) }) };
    if (httpTls === undefined) httpServer = await serveHttp(fetch, listen);
    else httpServer = httpsServer = await serveHttps(fetch, { ...listen, tls: httpTls });
  } catch (error) {
    await kafka.close();
    await broker.close();
    throw error;
  }
  if (mqttOptions !== undefined) {
    try {
      mqtt = await MqttListener.start(broker, {
        host: config.host,
        port: mqttOptions.port,
        mapping: mqttOptions.mapping,
        allowAnonymous: mqttOptions.allowAnonymous,
        ...(mqttOptions.tls === undefined ? {} : { tls: mqttOptions.tls }),
        ...(httpOptions?.tokens === undefined ? {} : { tokens: httpOptions.tokens }),
        onError: (error, remote) => io.err(`rill: mqtt connection from ${remote}: ${describeError(error)}`),
      });
    } catch (error) {
      httpApp.close();
      await httpServer.close();
      await kafka.close();
      await broker.close();
      throw error;
    }
  }
  // Handlers go in before the ready line, so a signal sent as soon as it appears is handled.
  const signal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // Each listener reloads on its own: a bad file for one keeps that one's certificate, not the other's.
  const reloads: { name: string; reload: () => void }[] = [];
  if (security.tls !== undefined) reloads.push({ name: 'Kafka', reload: () => kafka.reloadTls() });
  const https = httpsServer;
  if (https !== undefined) reloads.push({ name: 'HTTP', reload: () => https.reloadTls() });
  const mqtts = mqtt?.tls === undefined ? undefined : mqtt;
  if (mqtts !== undefined) reloads.push({ name: 'MQTT', reload: () => mqtts.reloadTls() });
  const reloadTls = (): void => {
    for (const { name, reload } of reloads) {
      try {
        reload();
        io.out(`rill: SIGHUP received, reloaded the ${name} listener certificate and key`);
      } catch (error) {
        io.err(`rill: SIGHUP received, kept the current ${name} listener certificate: ${describeError(error)}`);
      }
    }
  };
  if (reloads.length > 0) process.on('SIGHUP', reloadTls);
  const topics = broker.listTopics({ includeInternal: true });
  const protocol = security.sasl === undefined ? (security.tls === undefined ? 'PLAINTEXT' : 'SSL') : security.tls === undefined ? 'SASL_PLAINTEXT' : 'SASL_SSL';
  io.out(`rill: kafka listening on ${config.host}:${kafka.port} (advertised ${kafka.advertised.host}:${kafka.advertised.port}, ${protocol})`);
  io.out(`rill: http listening on ${config.host}:${httpServer.port}${httpTls === undefined ? '' : ` (HTTPS, client certificates ${httpTls.clientAuth})`}`);
  if (mqtt !== undefined) io.out(mqttReadyLine(mqtt, config.host, httpServer.port, httpTls !== undefined, mqttOptions?.allowAnonymous === true));
  io.out(`rill: broker ready, data in ${config.dataDir} (${topics.length} topic${topics.length === 1 ? '' : 's'})`);
  const received = await signal;
  const forceExit = (): void => {
    io.err('rill: second signal, exiting without a clean shutdown');
    process.exit(130);
  };
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  process.off('SIGHUP', reloadTls);
  io.out(`rill: ${received} received, shutting down`);
  httpApp.close();
  // MQTT first: the HTTP server's close waits for its upgraded (MQTT over WebSocket) connections.
  await mqtt?.close();
  await httpServer.close();
  await kafka.close();
  await broker.close();
  io.out('rill: stopped cleanly');
  return 0;
}

/** `rill: mqtt listening on …`, or `rill: mqtts listening on …` with the client certificate mode when the TCP listener serves TLS. */
function mqttReadyLine(mqtt: MqttListener, host: string, httpPort: number, wss: boolean, allowAnonymous: boolean): string {
  const tls = mqtt.tls;
  const tcp = tls === undefined ? `mqtt listening on ${host}:${mqtt.port}` : `mqtts listening on ${host}:${mqtt.port} (client certificates ${tls.clientAuth})`;
  const login = allowAnonymous ? '' : tls !== undefined && tls.clientAuth !== 'none' ? ' (user name and password, or a client certificate on mqtts, required)' : ' (user name and password required)';
  return `rill: ${tcp} and ${wss ? 'wss' : 'ws'}://${host}:${httpPort}/mqtt${login}`;
}
