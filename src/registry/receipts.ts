// Receipts (DESIGN §Interfaces): what a write returns and what a retry with the same Idempotency-Key returns again,
// byte for byte: the entry's index, its tlog-proof against the first checkpoint that included it, and that checkpoint.
import { toHex } from '../core/bytes.js';
import { RegistryError } from '../core/errors.js';
import { decodeEntry } from '../core/entry.js';
import { leafHash } from '../core/merkle.js';
import { formatTlogProof } from '../core/tlog-proof.js';
import type { LogReader } from '../log/reader.js';
import type { StoredCheckpoint } from '../store/log-store.js';
import type { RegistryStore } from '../store/registry-store.js';

export interface Receipt {
  /** The certificate id (its verify URL) for certificate entries; the issuer id for issuer entries. */
  id: string;
  verifyUrl?: string;
  kind: string;
  index: number;
  loggedAt: number;
  leafHash: string;
  /** C2SP tlog-proof of the entry against `checkpoint`. */
  tlogProof: string;
  checkpoint: string;
}

/** A logged entry with the first checkpoint that includes it: what the sequencer's append resolves with. */
export interface LoggedEntry {
  index: number;
  entry: Uint8Array;
  /** leafHash(entry). */
  leafHash: Uint8Array;
  kind: string;
  loggedAt: number;
  checkpoint: StoredCheckpoint;
}

/** The receipt of a logged entry. */
export async function receiptOf(log: LogReader, logged: LoggedEntry, id: string): Promise<Receipt> {
  const { index, kind, loggedAt, checkpoint } = logged;
  const proof = await log.inclusionProof(index, checkpoint.size);
  return {
    id,
    ...(kind.startsWith('certificate.') ? { verifyUrl: id } : {}),
    kind,
    index,
    loggedAt,
    leafHash: toHex(logged.leafHash),
    tlogProof: formatTlogProof({ index, proof, checkpoint: checkpoint.note }),
    checkpoint: checkpoint.note,
  };
}

/** The receipt of entry `index`, rebuilt from the stored entry and the first checkpoint that included it. */
export async function buildReceipt(store: RegistryStore, log: LogReader, index: number, id: string): Promise<Receipt> {
  const [entries, checkpoint] = await Promise.all([store.entriesAt([index]), store.firstCheckpointIncluding(index)]);
  const entry = entries.get(index);
  if (!entry || !checkpoint) throw new RegistryError('log-integrity', `entry ${index} or its checkpoint is missing`);
  const { kind, loggedAt } = decodeEntry(entry);
  return receiptOf(log, { index, entry, leafHash: leafHash(entry), kind, loggedAt, checkpoint }, id);
}
