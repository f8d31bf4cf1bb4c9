import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener, type KafkaListenerOptions } from '../../broker/kafka/kafka-listener.ts';
import type { ScramMechanismName } from '../../sdk/auth/scram.ts';

export const ALL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/** A broker in this process with one data directory and any number of listeners over it. */
export class SecureBroker {
  private readonly listeners: KafkaListener[] = [];

  private constructor(
    readonly broker: Broker,
    readonly dataDir: string,
    private readonly ownsDir: boolean,
  ) {}

  static async open(dataDir?: string): Promise<SecureBroker> {
    const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'rill-secure-'));
    return new SecureBroker(await Broker.open({ config: { dataDir: dir } }), dir, dataDir === undefined);
  }

  /** Gives `user` this password under every SCRAM mechanism (PLAIN verifies against them). */
  async addUser(user: string, password: string, mechanisms: readonly ScramMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512']): Promise<void> {
    for (const mechanism of mechanisms) await this.broker.scramCredentials.setPassword(user, mechanism, password, 4096);
  }

  async listen(options: Omit<KafkaListenerOptions, 'host' | 'port'>): Promise<KafkaListener> {
    const listener = await KafkaListener.start(this.broker, { host: '127.0.0.1', port: 0, ...options });
    this.listeners.push(listener);
    return listener;
  }

  /** Closes the listeners and the broker; removes the data directory unless `keepData`. */
  async close(keepData = false): Promise<void> {
    for (const listener of this.listeners.splice(0)) await listener.close();
    await this.broker.close();
    if (this.ownsDir && !keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
