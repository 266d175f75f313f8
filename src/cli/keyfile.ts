// Key files under keys/ (git-ignored): C2SP signer-key strings, written once with mode 0600 and never logged.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from '../core/crypto.js';
import { formatSignerKey, parseSignerKey } from '../core/note.js';

export type SignerKey = Awaited<ReturnType<typeof parseSignerKey>>;

/** Writes a new Ed25519 signer key for `name` to `path`; refuses to overwrite an existing key. */
export async function createKeyFile(path: string, name: string): Promise<SignerKey> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const skey = formatSignerKey(name, randomBytes(32));
  writeFileSync(path, `${skey}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return parseSignerKey(skey);
}

/** Reads a signer key, checking that its name is `name` and that the file is readable by its owner only. */
export async function readKeyFile(path: string, name: string): Promise<SignerKey> {
  if ((statSync(path).mode & 0o077) !== 0) throw new Error(`${path} must not be readable by group or others (chmod 600)`);
  const key = await parseSignerKey(readFileSync(path, 'utf8').trim());
  if (key.name !== name) throw new Error(`${path} holds the key of "${key.name}", not "${name}"`);
  return key;
}

/** The key at `path`, created on first start. */
export async function loadOrCreateKeyFile(path: string, name: string): Promise<SignerKey> {
  return existsSync(path) ? readKeyFile(path, name) : createKeyFile(path, name);
}
