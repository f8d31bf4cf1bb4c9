import { type Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsResponse {
  status: number;
  body: string;
  /** The CN of the certificate the server presented on this connection. */
  serverCommonName: string;
  /** The client side's port: equal across requests means one connection carried them. */
  localPort: number;
}

export interface HttpsRequestOptions {
  method?: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** TLS options (ca, cert, key) for a one-off connection; ignored when `agent` is given. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** A keep-alive agent, to send several requests over one connection. */
  agent?: Agent;
}

/** One HTTPS request to 127.0.0.1 with node:https, verifying the server against the given CA. */
export function httpsRequest(port: number, path: string, options: HttpsRequestOptions): Promise<HttpsResponse> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers = { ...options.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        servername: 'localhost',
        ...(options.agent === undefined ? { agent: false, ...options.tls } : { agent: options.agent }),
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const serverCommonName = String(socket.getPeerCertificate().subject?.CN);
        const localPort = socket.localPort ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), serverCommonName, localPort }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}
