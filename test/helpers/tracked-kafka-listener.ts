import type { Broker } from '../../broker/broker.ts';
import { allApiHandlers } from '../../broker/kafka/apis/all-handlers.ts';
import { apiVersionsHandler } from '../../broker/kafka/apis/api-versions.ts';
import type { RequestHandler } from '../../broker/kafka/kafka-connection.ts';
import { defaultKafkaServerLimits, KafkaServer } from '../../broker/kafka/kafka-server.ts';
import { RequestDispatcher } from '../../broker/kafka/request-dispatcher.ts';
import { ApiKey } from '../../sdk/protocol/mod.ts';

const apiNames = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key as number, name]));

interface InFlight {
  connectionId: number;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string;
  startMs: number;
}

/**
 * The broker's Kafka listener (the same handler table `KafkaListener` serves) with every request
 * it has read and not yet answered on record, so a test that stalls can say what each client is
 * waiting on: api, version, correlation id, client id and age.
 */
export class TrackedKafkaListener {
  private readonly inFlight = new Map<string, InFlight>();
  /** Errors that made the broker close a connection (a handler's broken invariant, an undecodable frame). */
  readonly connectionErrors: string[] = [];

  private constructor(
    private readonly server: KafkaServer,
    readonly port: number,
  ) {}

  static async start(broker: Broker): Promise<TrackedKafkaListener> {
    let dispatcher: RequestDispatcher | undefined;
    let listener: TrackedKafkaListener | undefined;
    const handler: RequestHandler = (frame, connection) => listener!.track(frame, connection.id, () => dispatcher!.handle(frame, connection));
    const server = await KafkaServer.listen({
      ...defaultKafkaServerLimits,
      host: '127.0.0.1',
      port: 0,
      handler,
      onError: (error, remoteAddress) => listener?.connectionErrors.push(`${remoteAddress}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    });
    const created: RequestDispatcher = new RequestDispatcher({
      broker,
      advertised: { nodeId: broker.config.nodeId, host: '127.0.0.1', port: server.port },
      clusterId: broker.clusterId,
      handlers: [...allApiHandlers, apiVersionsHandler(() => created.advertisedVersions())],
    });
    dispatcher = created;
    listener = new TrackedKafkaListener(server, server.port);
    return listener;
  }

  /** Connections open right now. */
  get connectionCount(): number {
    return this.server.connectionCount;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  private track(frame: Uint8Array, connectionId: number, handle: () => ReturnType<RequestHandler>): ReturnType<RequestHandler> {
    // Request header v1+: api key, api version, correlation id, then the client id as a nullable int16 string.
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const clientIdBytes = frame.byteLength >= 10 ? view.getInt16(8) : -1;
    const entry: InFlight = {
      connectionId,
      apiKey: view.getInt16(0),
      apiVersion: view.getInt16(2),
      correlationId: view.getInt32(4),
      clientId: clientIdBytes > 0 ? new TextDecoder().decode(frame.subarray(10, 10 + clientIdBytes)) : '',
      startMs: Date.now(),
    };
    const key = `${connectionId}/${entry.correlationId}`;
    this.inFlight.set(key, entry);
    const pending = handle();
    const done = () => this.inFlight.delete(key);
    pending.then(done, done);
    return pending;
  }

  /** One line per request in flight for at least `minAgeMs`, oldest first. */
  describeInFlight(minAgeMs = 0): string[] {
    const nowMs = Date.now();
    return [...this.inFlight.values()]
      .filter((r) => nowMs - r.startMs >= minAgeMs)
      .sort((a, b) => a.startMs - b.startMs)
      .map(
        (r) =>
          `${apiNames.get(r.apiKey) ?? `api ${r.apiKey}`} v${r.apiVersion} from ${r.clientId} (connection ${r.connectionId}, correlation id ${r.correlationId}) waiting ${nowMs - r.startMs} ms`,
      );
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
