import { readFileSync } from 'node:fs';

/** Resident memory of another process in bytes (Linux: VmRSS in /proc/<pid>/status); undefined once it is gone. */
export function processRssBytes(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}
