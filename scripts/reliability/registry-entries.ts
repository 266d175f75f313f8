// What a registry log's entries must look like after a crash (EntryRules for scripts/crash/verify-log.ts), and what
// an acknowledged write (a receipt) promises: every entry is a canonical registry entry (core decodeEntry), each
// document is logged once (a retry that wrote twice would log it twice, at two loggedAt), and the entry at a receipt's
// index has the receipt's leaf hash and holds the very document that was sent.
import { toHex } from '../../src/core/bytes.js';
import { decodeEntry } from '../../src/core/entry.js';
import { canonicalBytes } from '../../src/core/jcs.js';
import type { JsonObject } from '../../src/core/json.js';
import { sha256Hex } from '../crash/entries.js';
import { leafHashOf, type Acknowledgement, type EntryRules } from '../crash/verify-log.js';

/** The end of every entry's JCS bytes: members sort as body, kind, loggedAt, v. */
const LOGGED_AT_TAIL = /,"loggedAt":(0|[1-9][0-9]{0,15}),"v":1\}$/;
const latin1 = new TextDecoder('latin1');

/** The entry's bytes without its loggedAt, hashed: equal for the same document logged twice. */
function documentKey(entry: Uint8Array): string | null {
  const tail = LOGGED_AT_TAIL.exec(latin1.decode(entry.subarray(Math.max(0, entry.length - 48))));
  return tail ? sha256Hex(entry.subarray(0, entry.length - tail[0].length)) : null;
}

/**
 * Registry entries: each decodes as a canonical entry and each document appears once. Entries never change once
 * committed (the root and tile checks see to that), so each is decoded only the first time it is seen with its bytes.
 */
export function registryEntryRules(): EntryRules {
  const decoded = new Map<number, { sha256: string; key: string }>();
  return {
    start() {
      const documents = new Map<string, number>();
      return (index, entry, violation) => {
        const sha256 = sha256Hex(entry);
        let known = decoded.get(index);
        if (known?.sha256 !== sha256) {
          try {
            decodeEntry(entry);
          } catch (error) {
            violation(`entry ${index} is not a registry entry: ${error instanceof Error ? error.message : String(error)}`);
            return;
          }
          const key = documentKey(entry);
          if (key === null) {
            violation(`entry ${index} does not end in loggedAt and v`);
            return;
          }
          known = { sha256, key };
          decoded.set(index, known);
        }
        const first = documents.get(known.key);
        if (first !== undefined) violation(`entry ${index} logs the same document as entry ${first}`);
        else documents.set(known.key, index);
      };
    },
  };
}

/** The part of a receipt (src/registry/receipts.ts) the checks use. */
export interface ReceiptFields {
  index: number;
  leafHash: string;
  kind: string;
  checkpoint: string;
}

/**
 * The acknowledgement a receipt gives: its index holds an entry with its leaf hash and kind whose body is `sent`
 * (JCS-equal), or, for writes whose logged document the registry composes (issuer registration), `sent` null.
 */
export function receiptAcknowledgement(receipt: ReceiptFields, label: string, sent: JsonObject | null): Acknowledgement {
  const bodySha = sent === null ? null : sha256Hex(canonicalBytes(sent));
  return {
    index: receipt.index,
    label,
    matches(stored) {
      if (toHex(leafHashOf(stored)) !== receipt.leafHash) return false;
      if (bodySha === null) return true;
      try {
        const entry = decodeEntry(stored);
        return entry.kind === receipt.kind && sha256Hex(canonicalBytes(entry.body)) === bodySha;
      } catch {
        return false; // not an entry at all: the rules report it
      }
    },
  };
}
