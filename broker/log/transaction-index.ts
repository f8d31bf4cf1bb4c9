export const TXN_INDEX_SUFFIX = '.txnindex';
export const TXN_INDEX_ENTRY_BYTES = 34;
const TXN_INDEX_VERSION = 0;

/** An aborted transaction: data from `firstOffset`, its ABORT marker at `lastOffset`. */
export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  /** The partition's last stable offset right after the abort; lets a lookup stop early. */
  lastStableOffset: number;
}

/**
 * A segment's aborted-transaction index, `<base>.txnindex`, Kafka's format: one 34-byte entry per
 * transaction whose ABORT marker lies in the segment, in marker order, big-endian:
 *
 *   version           int16   0
 *   producerId        int64
 *   firstOffset       int64
 *   lastOffset        int64   the ABORT marker's offset
 *   lastStableOffset  int64
 *
 * The file is written whole when the segment is sealed (and for the active segment at a clean
 * close); entries after the newest producer snapshot are rebuilt by replaying the log.
 */
export function encodeTxnIndex(entries: readonly AbortedTxn[]): Uint8Array {
  const bytes = new Uint8Array(entries.length * TXN_INDEX_ENTRY_BYTES);
  const dv = new DataView(bytes.buffer);
  entries.forEach((e, i) => {
    const at = i * TXN_INDEX_ENTRY_BYTES;
    dv.setInt16(at, TXN_INDEX_VERSION);
    dv.setBigInt64(at + 2, BigInt(e.producerId));
    dv.setBigInt64(at + 10, BigInt(e.firstOffset));
    dv.setBigInt64(at + 18, BigInt(e.lastOffset));
    dv.setBigInt64(at + 26, BigInt(e.lastStableOffset));
  });
  return bytes;
}

/** The entries of a txn index file; a torn trailing entry or an unknown version ends the list. */
export function decodeTxnIndex(bytes: Uint8Array): AbortedTxn[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: AbortedTxn[] = [];
  for (let at = 0; at + TXN_INDEX_ENTRY_BYTES <= bytes.length; at += TXN_INDEX_ENTRY_BYTES) {
    if (dv.getInt16(at) !== TXN_INDEX_VERSION) break;
    entries.push({
      producerId: Number(dv.getBigInt64(at + 2)),
      firstOffset: Number(dv.getBigInt64(at + 10)),
      lastOffset: Number(dv.getBigInt64(at + 18)),
      lastStableOffset: Number(dv.getBigInt64(at + 26)),
    });
  }
  return entries;
}

/**
 * Adds to `out` the entries (ascending by lastOffset) of aborted transactions overlapping
 * [fetchOffset, upperBoundOffset). Returns true when no later entry can overlap: an entry's
 * lastStableOffset at or past the bound means every transaction completing later started after it.
 */
export function collectAbortedTxns(entries: readonly AbortedTxn[], fetchOffset: number, upperBoundOffset: number, out: AbortedTxn[]): boolean {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.lastOffset < fetchOffset) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.firstOffset < upperBoundOffset) out.push(entry);
    if (entry.lastStableOffset >= upperBoundOffset) return true;
  }
  return false;
}
