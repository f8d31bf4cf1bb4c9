/** A topology that cannot run: found while it is built, before anything starts. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}
