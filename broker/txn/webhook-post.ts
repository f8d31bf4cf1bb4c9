import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface WebhookReply {
  status: number;
  body: string;
}

/**
 * POSTs a JSON body and resolves with the reply, reading at most `maxBodyBytes` of it. Each call
 * opens its own connection (no keep-alive pool): a webhook that hangs on one call must not hold
 * a pooled socket that the next attempt would queue behind. Rejects on a network error, on
 * `timeoutMs` passing, when `signal` aborts, and on a body past the bound.
 */
export function postJson(url: string, body: string, options: { timeoutMs: number; maxBodyBytes: number; signal: AbortSignal }): Promise<WebhookReply> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' },
      signal: options.signal,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > options.maxBodyBytes) req.destroy(new Error(`the answer is longer than ${options.maxBodyBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.end(body);
  });
}
