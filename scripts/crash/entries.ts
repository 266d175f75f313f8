// The crash program's log entries: `crash <session> <run> <seq> <padding>`, the padding 0..2000 lowercase letters drawn
// from a PRNG seeded by the header, so the parent can regenerate every entry's exact bytes from its header alone and
// no two entries of a session are equal.
import { createHash } from 'node:crypto';

export const MAX_PADDING = 2000;

/** The writer's base URL: fixed, so the log origin (and the log key's name) stays the same across restarts on
 * different ports. */
export const CRASH_BASE_URL = 'http://certrail.crash';

const HEADER = /^crash ([0-9a-f]{1,32}) (0|[1-9][0-9]{0,8}) (0|[1-9][0-9]{0,14}) /;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** mulberry32: a small, fast, seedable 32-bit PRNG (uniform in [0, 1)). Not for secrets; only for reproducible noise. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string's UTF-16 code units: the PRNG seed of one entry. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export interface EntryId {
  session: string;
  run: number;
  seq: number;
}

/** The exact bytes of entry `seq` of child run `run` in `session` (session: 1..32 lowercase hex digits). */
export function crashEntry({ session, run, seq }: EntryId): Uint8Array {
  const header = encoder.encode(`crash ${session} ${run} ${seq} `);
  const random = seededRandom(seedOf(`${session} ${run} ${seq}`));
  const length = Math.floor(random() * (MAX_PADDING + 1));
  const bytes = new Uint8Array(header.length + length);
  bytes.set(header);
  // Four letters a..z per PRNG draw, one per byte of it (the slight bias is irrelevant here).
  for (let i = header.length; i < bytes.length; ) {
    let draw = (random() * 4294967296) >>> 0;
    for (let k = 0; k < 4 && i < bytes.length; k++, i++) {
      bytes[i] = 97 + ((draw & 0xff) % 26);
      draw >>>= 8;
    }
  }
  return bytes;
}

/** The id in an entry's header, or null when the bytes do not start like a crash entry. */
export function parseCrashEntry(bytes: Uint8Array): EntryId | null {
  let text: string;
  try {
    text = decoder.decode(bytes.subarray(0, 80));
  } catch {
    return null;
  }
  const match = HEADER.exec(text);
  if (!match) return null;
  return { session: match[1]!, run: Number(match[2]), seq: Number(match[3]) };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
