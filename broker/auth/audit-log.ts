import * as nodeFs from 'node:fs';
import { join } from 'node:path';

/**
 * Denied operations and authentication failures as JSON lines in `<dataDir>/audit.log`, one object
 * per line: `{"time":"<ISO-8601>","event":"denied"|"authentication-failed",...fields}`. When a line
 * would take the file past `maxBytes` it is renamed to `audit.log.1` (replacing the previous one) and
 * a new file starts, so the log holds at most twice `maxBytes`. Lines are written synchronously in
 * small appends; at most `maxLinesPerSecond` are written, the rest only counted (`suppressed` in the
 * next line), so a client hammering denied requests cannot turn the log into a disk or CPU sink.
 */
export const AUDIT_LOG_FILE = 'audit.log';

export interface AuditLogOptions {
  dir: string;
  maxBytes: number;
  maxLinesPerSecond: number;
  nowMs?: () => number;
}

export const defaultAuditLogLimits = { maxBytes: 10 * 1024 * 1024, maxLinesPerSecond: 1000 } as const;

export interface DeniedOperation {
  principal: string;
  host: string;
  apiKey: number;
  resourceType: number;
  resourceName: string;
  operation: number;
}

export interface AuthenticationFailure {
  principal?: string;
  host: string;
  mechanism: string;
  reason: string;
}

export class AuditLog {
  private readonly path: string;
  private sizeBytes: number;
  private windowStartMs = 0;
  private linesInWindow = 0;
  private suppressed = 0;
  private readonly nowMs: () => number;

  constructor(private readonly options: AuditLogOptions) {
    this.path = join(options.dir, AUDIT_LOG_FILE);
    this.nowMs = options.nowMs ?? Date.now;
    this.sizeBytes = nodeFs.existsSync(this.path) ? nodeFs.statSync(this.path).size : 0;
  }

  denied(event: DeniedOperation): void {
    this.write({ event: 'denied', ...event });
  }

  /** For the authentication layer (SASL, mTLS): a failed attempt. */
  authenticationFailed(event: AuthenticationFailure): void {
    this.write({ event: 'authentication-failed', ...event });
  }

  /** For transaction check-back: a check sent, an answer received, an outcome decided (`event` names which). */
  transactionCheck(fields: { event: string; [key: string]: unknown }): void {
    this.write(fields);
  }

  private write(fields: Record<string, unknown>): void {
    const now = this.nowMs();
    if (now - this.windowStartMs >= 1000) {
      this.windowStartMs = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow >= this.options.maxLinesPerSecond) {
      this.suppressed++;
      return;
    }
    this.linesInWindow++;
    const record: Record<string, unknown> = { time: new Date(now).toISOString(), ...fields };
    if (this.suppressed > 0) record['suppressed'] = this.suppressed;
    this.suppressed = 0;
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    if (this.sizeBytes > 0 && this.sizeBytes + line.byteLength > this.options.maxBytes) {
      nodeFs.renameSync(this.path, `${this.path}.1`);
      this.sizeBytes = 0;
    }
    nodeFs.appendFileSync(this.path, line);
    this.sizeBytes += line.byteLength;
  }
}
