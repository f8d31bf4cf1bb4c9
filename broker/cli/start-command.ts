import { Broker } from '../broker.ts';
import { parseStartOptions } from './parse-start-options.ts';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `rill start`: opens the broker and serves until SIGINT or SIGTERM, then shuts down cleanly
 * (flush, checkpoint, unlock). A second signal while shutting down exits at once.
 */
export async function startCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const broker = await Broker.open({ config: parseStartOptions(args) });
  // Handlers go in before the ready line, so a signal sent as soon as it appears is handled.
  const signal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // The process has no listener socket to keep it alive yet, so hold a timer until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const topics = broker.listTopics({ includeInternal: true });
  io.out(`rill: broker ready, data in ${broker.config.dataDir} (${topics.length} topic${topics.length === 1 ? '' : 's'})`);
  const received = await signal;
  const forceExit = (): void => {
    io.err('rill: second signal, exiting without a clean shutdown');
    process.exit(130);
  };
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  io.out(`rill: ${received} received, shutting down`);
  clearInterval(keepAlive);
  await broker.close();
  io.out('rill: stopped cleanly');
  return 0;
}
