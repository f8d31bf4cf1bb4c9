import type { Transport } from '../../sdk/transport/transport.ts';
import { type ConnectionFlags, connectionTransport } from './connection-options.ts';

/** Runs `work` with a transport for the connection flags, and closes it whatever happens. */
export async function withTransport<T>(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>, work: (transport: Transport) => Promise<T>): Promise<T> {
  const transport = connectionTransport(flags, env);
  try {
    return await work(transport);
  } finally {
    await transport.close();
  }
}
