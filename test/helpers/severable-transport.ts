import type { ApiKey, RequestBodies, ResponseBodies } from '../../sdk/protocol/mod.ts';
import type { BrokerNode, SendOptions, Transport } from '../../sdk/transport/transport.ts';

/**
 * A transport whose link to the broker is cut after the `n`th request of one API has been
 * delivered (and answered): every later request fails, as for a process that died there. What
 * the broker already applied stays applied (an open transaction stays open).
 */
export class SeverableTransport implements Transport {
  private seen = 0;
  private severed = false;

  constructor(
    private readonly inner: Transport,
    private readonly cutAfter: { apiKey: ApiKey; count: number },
  ) {}

  get isSevered(): boolean {
    return this.severed;
  }

  private check(): void {
    if (this.severed) throw new Error('injected fault: the link to the broker is cut');
  }

  apiVersion(apiKey: ApiKey, nodeId?: number): Promise<number> {
    this.check();
    return this.inner.apiVersion(apiKey, nodeId);
  }

  supports(apiKey: ApiKey, nodeId?: number): Promise<boolean> {
    this.check();
    return this.inner.supports(apiKey, nodeId);
  }

  async send<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options?: SendOptions): Promise<ResponseBodies[K]> {
    this.check();
    const response = await this.inner.send(apiKey, version, body, options);
    if (apiKey === this.cutAfter.apiKey && ++this.seen >= this.cutAfter.count) this.severed = true;
    return response;
  }

  sendWithoutResponse<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options?: SendOptions): Promise<void> {
    this.check();
    return this.inner.sendWithoutResponse(apiKey, version, body, options);
  }

  brokers(): readonly BrokerNode[] {
    return this.inner.brokers();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
