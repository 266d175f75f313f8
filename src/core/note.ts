// C2SP signed-note v1 (c2sp.org/signed-note@v1.0.0) with Ed25519 (type 0x01) and C2SP tlog-cosignature
// `cosignature/v1` (type 0x04, timestamped Ed25519). Verifier keys ("vkeys") and signer keys follow the
// golang.org/x/mod/sumdb/note encoding that the C2SP ecosystem uses:
//   vkey = name "+" hex(keyID) "+" base64(type || public key)
//   skey = "PRIVATE+KEY+" name "+" hex(keyID) "+" base64(type || seed)
// Trust assumption: a verifier is trusted because the caller configured it; a key ID is an identifier,
// not a hash commitment (signed-note §Signatures).
import { concatBytes, fromBase64, readUint64BE, toBase64, toHex, uint64BE, utf8 } from './bytes.js';
import { ed25519PublicKey, ed25519PublicKeySync, sha256, signEd25519, verifyEd25519 } from './crypto.js';
import { RegistryError } from './errors.js';

/** signed-note §Signature types. */
export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

/**
 * signed-note §Format: verifiers SHOULD bound the number of signatures and MUST accept at least 16.
 * 100 is the bound of the Go reference implementation.
 */
export const MAX_NOTE_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 '; // em dash, space
const SKEY_PREFIX = 'PRIVATE+KEY+';
const ED25519_KEY_LENGTH = 32;
const ED25519_SIG_LENGTH = 64;
const TIMESTAMP_LENGTH = 8;

export interface NoteSigner {
  name: string;
  keyId: Uint8Array;
  type: number;
  /** Returns the signature bytes that follow the key ID in the signature line. */
  sign(text: Uint8Array): Promise<Uint8Array>;
}

export interface NoteVerifier {
  name: string;
  keyId: Uint8Array;
  type: number;
  publicKey: Uint8Array;
  /** `sig` is the signature line's bytes after the key ID. Never throws. */
  verify(text: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** Bytes after the key ID (for cosignature/v1: timestamp || Ed25519 signature). */
  signature: Uint8Array;
  /** The signature line without its final newline. */
  line: string;
  /** For verified cosignature/v1 signatures: the signed POSIX timestamp in seconds. */
  timestamp?: number;
}

export interface OpenedNote {
  text: string;
  /** Every signature line, in order. */
  signatures: NoteSignature[];
  /** Verified signatures, at most one per (name, key ID). */
  verified: NoteSignature[];
  /** Signatures from unknown keys (ignored per spec), identical lines once. */
  unverified: NoteSignature[];
}

function bad(detail: string): RegistryError {
  return new RegistryError('bad-request', `note: ${detail}`);
}

// --- character and name rules (signed-note §Format) -----------------------------------------------

/** ASCII control characters other than newline, and lone surrogates (not encodable as UTF-8). */
const FORBIDDEN_CHARS = /[\u0000-\u0009\u000b-\u001f]|\p{Cs}/u;
/** Key names: non-empty, no Unicode spaces, no plus. */
const FORBIDDEN_NAME_CHARS = /[\p{White_Space}+\u0000-\u001f]|\p{Cs}/u;

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !FORBIDDEN_NAME_CHARS.test(name);
}

function checkKeyName(name: string): void {
  if (!isValidKeyName(name)) throw bad('invalid key name');
}

/** Note text: non-empty, ends in newline, valid UTF-8 without control characters other than newline. */
function checkText(text: string): void {
  if (!text.endsWith('\n')) throw bad('text must be non-empty and end with a newline');
  if (FORBIDDEN_CHARS.test(text)) throw bad('text contains a control character or invalid UTF-8');
}

// --- keys ------------------------------------------------------------------------------------------

/** signed-note §Signatures: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(name), new Uint8Array([0x0a, type]), publicKey)).slice(0, 4);
}

function checkKeyType(type: number): void {
  if (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE_V1) {
    throw bad(`unsupported signature type ${type}`);
  }
}

function formatKey(name: string, keyId: Uint8Array, type: number, key: Uint8Array): string {
  return `${name}+${toHex(keyId)}+${toBase64(concatBytes(new Uint8Array([type]), key))}`;
}

/** Splits `name+hexid+base64` on the first two '+' only (standard base64 may itself contain '+'). */
function splitKey(text: string): { name: string; keyId: Uint8Array; type: number; key: Uint8Array } {
  const i = text.indexOf('+');
  const j = i < 0 ? -1 : text.indexOf('+', i + 1);
  if (j < 0) throw bad('key must be name+id+key');
  const name = text.slice(0, i);
  const hexId = text.slice(i + 1, j);
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(hexId)) throw bad('key ID must be 8 lowercase hex digits');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text.slice(j + 1));
  } catch {
    throw bad('key material is not strict base64');
  }
  const type = bytes[0];
  if (type === undefined) throw bad('empty key material');
  checkKeyType(type);
  const key = bytes.slice(1);
  if (key.length !== ED25519_KEY_LENGTH) throw bad('Ed25519 key must be 32 bytes');
  const keyId = new Uint8Array(4);
  for (let k = 0; k < 4; k++) keyId[k] = parseInt(hexId.slice(2 * k, 2 * k + 2), 16);
  return { name, keyId, type, key };
}

/** Verifier key (vkey) for an Ed25519 (0x01, default) or cosignature/v1 (0x04) public key. */
export function formatVerifierKey(name: string, publicKey: Uint8Array, type = SIG_TYPE_ED25519): string {
  checkKeyName(name);
  checkKeyType(type);
  if (publicKey.length !== ED25519_KEY_LENGTH) throw bad('Ed25519 public key must be 32 bytes');
  return formatKey(name, noteKeyId(name, type, publicKey), type, publicKey);
}

/** Parses a vkey; the key ID in the string must match the one computed from name, type and key. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const { name, keyId, type, key } = splitKey(vkey);
  if (toHex(keyId) !== toHex(noteKeyId(name, type, key))) throw bad('verifier key ID does not match key');
  return type === SIG_TYPE_COSIGNATURE_V1 ? cosignatureVerifier(name, key) : ed25519NoteVerifier(name, key);
}

/** Signer key (skey) for an Ed25519 seed, as written by `certrail keygen` and Go's note.GenerateKey. */
export function formatSignerKey(name: string, seed: Uint8Array, type = SIG_TYPE_ED25519): string {
  checkKeyName(name);
  checkKeyType(type);
  const publicKey = ed25519PublicKeySync(seed);
  return SKEY_PREFIX + formatKey(name, noteKeyId(name, type, publicKey), type, seed);
}

/**
 * Parses an skey. Type 0x01 gives an Ed25519 note signer; type 0x04 a cosignature/v1 signer stamped
 * with the system clock. The key ID in the string must match the derived public key.
 */
export async function parseSignerKey(
  skey: string,
): Promise<NoteSigner & { seed: Uint8Array; publicKey: Uint8Array; vkey: string }> {
  if (!skey.startsWith(SKEY_PREFIX)) throw bad('signer key must start with PRIVATE+KEY+');
  const { name, keyId, type, key: seed } = splitKey(skey.slice(SKEY_PREFIX.length));
  const signer =
    type === SIG_TYPE_COSIGNATURE_V1
      ? await cosignatureSigner(name, seed, () => Math.floor(Date.now() / 1000))
      : await ed25519NoteSigner(name, seed);
  if (toHex(keyId) !== toHex(signer.keyId)) throw bad('signer key ID does not match key');
  return { ...signer, seed };
}

// --- Ed25519 (type 0x01, signed-note §Ed25519 signatures) ------------------------------------------

export async function ed25519NoteSigner(
  name: string,
  seed: Uint8Array,
): Promise<NoteSigner & { publicKey: Uint8Array; vkey: string }> {
  checkKeyName(name);
  const publicKey = await ed25519PublicKey(seed);
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_ED25519, publicKey),
    type: SIG_TYPE_ED25519,
    publicKey,
    vkey: formatVerifierKey(name, publicKey, SIG_TYPE_ED25519),
    sign: (text) => signEd25519(seed, text),
  };
}

export function ed25519NoteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkKeyName(name);
  if (publicKey.length !== ED25519_KEY_LENGTH) throw bad('Ed25519 public key must be 32 bytes');
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_ED25519, publicKey),
    type: SIG_TYPE_ED25519,
    publicKey,
    verify: async (text, sig) => sig.length === ED25519_SIG_LENGTH && verifyEd25519(publicKey, text, sig),
  };
}

// --- cosignature/v1 (type 0x04, tlog-cosignature §Format and §Ed25519 signed message) --------------

/** "cosignature/v1\ntime <T>\n" || note text, T in ASCII decimal without leading zeroes. */
function cosignedMessage(timestamp: number, text: Uint8Array): Uint8Array {
  return concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), text);
}

/**
 * A witness signer. `now` returns POSIX seconds. The signature is timestamp (u64 BE) || Ed25519
 * signature; this project bounds timestamps by 2^53 - 1 (the spec allows up to 2^63 - 1).
 */
export async function cosignatureSigner(
  name: string,
  seed: Uint8Array,
  now: () => number,
): Promise<NoteSigner & { publicKey: Uint8Array; vkey: string }> {
  checkKeyName(name);
  const publicKey = await ed25519PublicKey(seed);
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_COSIGNATURE_V1, publicKey),
    type: SIG_TYPE_COSIGNATURE_V1,
    publicKey,
    vkey: formatVerifierKey(name, publicKey, SIG_TYPE_COSIGNATURE_V1),
    async sign(text) {
      const timestamp = now();
      if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw bad('cosignature time must be whole seconds');
      const sig = await signEd25519(seed, cosignedMessage(timestamp, text));
      return concatBytes(uint64BE(timestamp), sig);
    },
  };
}

/**
 * The signed time of a cosignature/v1 signature (bytes after the key ID), or undefined if the bytes
 * are not 72 long or the time exceeds 2^53 - 1.
 */
export function cosignatureTimestamp(sig: Uint8Array): number | undefined {
  if (sig.length !== TIMESTAMP_LENGTH + ED25519_SIG_LENGTH) return undefined;
  try {
    return readUint64BE(sig, 0);
  } catch {
    return undefined;
  }
}

/** A witness verifier. The verified timestamp is reported in `NoteSignature.timestamp` by openNote. */
export function cosignatureVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkKeyName(name);
  if (publicKey.length !== ED25519_KEY_LENGTH) throw bad('Ed25519 public key must be 32 bytes');
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_COSIGNATURE_V1, publicKey),
    type: SIG_TYPE_COSIGNATURE_V1,
    publicKey,
    async verify(text, sig) {
      const timestamp = cosignatureTimestamp(sig);
      if (timestamp === undefined) return false;
      return verifyEd25519(publicKey, cosignedMessage(timestamp, text), sig.subarray(TIMESTAMP_LENGTH));
    },
  };
}

// --- signing and opening notes ---------------------------------------------------------------------

async function signatureLine(signer: NoteSigner, text: string): Promise<string> {
  checkKeyName(signer.name);
  if (signer.keyId.length !== 4) throw bad('key ID must be 4 bytes');
  const sig = await signer.sign(utf8(text));
  return `${SIG_PREFIX}${signer.name} ${toBase64(concatBytes(signer.keyId, sig))}\n`;
}

/** Signs `text` with every signer: text, a blank line, then one signature line per signer. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  checkText(text);
  if (signers.length === 0) throw bad('at least one signer is required');
  if (signers.length > MAX_NOTE_SIGNATURES) throw bad('too many signatures');
  let out = `${text}\n`;
  for (const s of signers) out += await signatureLine(s, text);
  return out;
}

/**
 * Parses a signed note without verifying it (signed-note §Format): the text ends at the last blank
 * line; every following line is "— name base64(keyID || signature)". Throws 'bad-request'.
 */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (FORBIDDEN_CHARS.test(note)) throw bad('note contains a control character or invalid UTF-8');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw bad('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw bad('signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw bad('too many signatures');
  return { text, signatures: lines.map(parseSignatureLine) };
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) throw bad('signature line must start with an em dash and a space');
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw bad('signature line must be "— name signature"');
  const name = rest.slice(0, space);
  if (!isValidKeyName(name)) throw bad('invalid key name in signature line');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(rest.slice(space + 1));
  } catch {
    throw bad('signature is not strict base64');
  }
  if (bytes.length < 5) throw bad('signature too short');
  return { name, keyId: bytes.slice(0, 4), signature: bytes.slice(4), line };
}

/** Map key of the (name, key ID) tuple that identifies a key; names cannot contain newlines. */
function keyRef(name: string, keyId: Uint8Array): string {
  return `${name}\n${toHex(keyId)}`;
}

/**
 * Opens a signed note against trusted verifiers (signed-note §Signatures):
 * - signatures whose (name, key ID) match no verifier are ignored (reported in `unverified`);
 * - every signature from a known key is verified, and one failure rejects the whole note;
 * - at least one signature from a known key must verify;
 * - repeated signatures from one key are all verified but reported once in `verified`.
 * Throws 'bad-request' for malformed notes or ambiguous verifiers, and 'forbidden' when a known key's
 * signature fails or no known key signed (the status c2sp.org/tlog-witness gives such checkpoints).
 */
export async function openNote(note: string, verifiers: readonly NoteVerifier[]): Promise<OpenedNote> {
  const known = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const ref = keyRef(v.name, v.keyId);
    const other = known.get(ref);
    if (other && (other.type !== v.type || toHex(other.publicKey) !== toHex(v.publicKey))) {
      throw bad(`two verifiers share name and key ID ${v.name}`);
    }
    known.set(ref, v);
  }

  const { text, signatures } = parseNote(note);
  const textBytes = utf8(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenVerified = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const sig of signatures) {
    const ref = keyRef(sig.name, sig.keyId);
    const v = known.get(ref);
    if (v === undefined) {
      if (!seenUnverified.has(sig.line)) unverified.push(sig);
      seenUnverified.add(sig.line);
      continue;
    }
    if (!(await v.verify(textBytes, sig.signature))) {
      throw new RegistryError('forbidden', `note: invalid signature from ${sig.name}+${toHex(sig.keyId)}`);
    }
    if (seenVerified.has(ref)) continue;
    seenVerified.add(ref);
    const timestamp = v.type === SIG_TYPE_COSIGNATURE_V1 ? cosignatureTimestamp(sig.signature) : undefined;
    verified.push(timestamp === undefined ? sig : { ...sig, timestamp });
  }
  if (verified.length === 0) throw new RegistryError('forbidden', 'note: no signature from a trusted key');
  return { text, signatures, verified, unverified };
}

/**
 * Appends signatures to a signed note (e.g. witness cosignatures on a checkpoint). Signers whose
 * (name, key ID) already signed are skipped, so the call is idempotent. Existing signatures are not
 * verified here; openNote does that.
 */
export async function addSignatures(note: string, signers: readonly NoteSigner[]): Promise<string> {
  const { text, signatures } = parseNote(note);
  const present = new Set(signatures.map((s) => keyRef(s.name, s.keyId)));
  let out = note;
  let count = signatures.length;
  for (const s of signers) {
    const ref = keyRef(s.name, s.keyId);
    if (present.has(ref)) continue;
    if (++count > MAX_NOTE_SIGNATURES) throw bad('too many signatures');
    present.add(ref);
    out += await signatureLine(s, text);
  }
  return out;
}

/**
 * Appends signature lines received from elsewhere (e.g. a witness's response) to a signed note,
 * checking their syntax only (openNote verifies them). Lines may come with or without their newline.
 */
export function addSignatureLines(note: string, lines: readonly string[]): string {
  let out = note;
  const count = parseNote(note).signatures.length + lines.length;
  if (count > MAX_NOTE_SIGNATURES) throw bad('too many signatures');
  for (const raw of lines) {
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    // Invariant: each appended piece is exactly one well-formed signature line, so the text (which
    // ends at the last blank line) cannot change.
    if (line.includes('\n') || FORBIDDEN_CHARS.test(line)) throw bad('invalid signature line');
    parseSignatureLine(line);
    out += `${line}\n`;
  }
  return out;
}
