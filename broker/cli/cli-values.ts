import { UsageError } from './cli-errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as ISO 8601 (`PT1H30M`, `P1D`) or a number with a unit (`90s`, `1h`, `500ms`, `2d`), in ms. */
export function parseDuration(flag: string, text: string): number {
  const short = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (short !== null) return Number(short[1]) * UNIT_MS[short[2]!]!;
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text);
  if (iso !== null && text.length > 1 && !/T$/i.test(text)) {
    const [, d, h, m, s] = iso;
    return Number(d ?? 0) * UNIT_MS['d']! + Number(h ?? 0) * UNIT_MS['h']! + Number(m ?? 0) * UNIT_MS['m']! + Math.round(Number(s ?? 0) * 1_000);
  }
  throw new UsageError(`--${flag} must be a duration such as PT1H, P1DT2H, 90s, 15m or 1h, got "${text}"`);
}

/** A time as ISO 8601 (`2026-12-06T05:00:00Z`) or ms since the epoch. */
export function parseTime(flag: string, text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--${flag} must be an ISO 8601 time such as 2026-12-06T05:00:00Z, or ms since the epoch, got "${text}"`);
  return ms;
}

export function parseCount(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

/** `partition=offset,...` as a map. */
export function parsePartitionOffsets(flag: string, text: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const item of text.split(',')) {
    const m = /^(\d+)=(\d+)$/.exec(item.trim());
    if (m === null) throw new UsageError(`--${flag} must list partition=offset pairs separated by commas (0=10,1=42), got "${item}"`);
    out[Number(m[1])] = Number(m[2]);
  }
  return out;
}
