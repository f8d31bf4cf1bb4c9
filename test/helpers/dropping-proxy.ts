import { KafkaFrameProxy } from './kafka-frame-proxy.ts';

/** Decides, per response, whether the proxy cuts the connection instead of delivering it. */
export type DropPolicy = (apiKey: number, responseNumber: number) => boolean;

/**
 * A TCP proxy in front of a broker that can lose responses: when `policy` says so for a response,
 * it closes the client's connection instead of forwarding it. The broker has already acted on the
 * request, so the client retries something that happened, which is what idempotence is for.
 */
export class DroppingProxy {
  private constructor(
    private readonly proxy: KafkaFrameProxy,
    /** The API keys of the responses lost, in order. */
    readonly dropped: readonly number[],
  ) {}

  /** `targetPort` is read per connection, so the broker may start after the proxy (and advertise the proxy's port). */
  static async start(targetPort: () => number, policy: DropPolicy): Promise<DroppingProxy> {
    const dropped: number[] = [];
    let responses = 0;
    const proxy = await KafkaFrameProxy.start(targetPort, (request, response) => {
      const apiKey = request?.apiKey ?? -1;
      if (!policy(apiKey, responses++)) return response;
      dropped.push(apiKey);
      return 'cut';
    });
    return new DroppingProxy(proxy, dropped);
  }

  get port(): number {
    return this.proxy.port;
  }

  get bootstrap(): string {
    return this.proxy.bootstrap;
  }

  close(): Promise<void> {
    return this.proxy.close();
  }
}
