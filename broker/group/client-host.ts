/**
 * The client host a group member is described with: the connection's remote address without its
 * port, prefixed with '/' as Kafka's InetAddress.toString() renders it.
 */
export function clientHost(remoteAddress: string): string {
  return `/${remoteAddress.replace(/:[^:]*$/, '')}`;
}
