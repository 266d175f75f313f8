// Key files under keys/ (git-ignored): C2SP signer-key strings, written once with mode 0600 and never logged.
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from '../core/crypto.js';
import { formatSignerKey, parseSignerKey, SIG_TYPE_ED25519 } from '../core/note.js';
import type { ManagedKeyStore } from '../registry/registry.js';

export type SignerKey = Awaited<ReturnType<typeof parseSignerKey>>;

/**
 * Writes a new Ed25519 signer key for `name` to `path`; refuses to overwrite an existing key. The key is written to
 * a temporary file, synced, then linked into place, so a crash never leaves an empty or partial key file behind.
 * `type` is the signed-note signature type: 0x01 (a log or registry key) or 0x04 (a witness's cosignature/v1 key).
 */
export async function createKeyFile(path: string, name: string, type = SIG_TYPE_ED25519): Promise<SignerKey> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const skey = formatSignerKey(name, randomBytes(32), type);
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeFileSync(fd, `${skey}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path); // fails if the key exists: never overwrite a key
  } finally {
    unlinkSync(temporary);
  }
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

/**
 * The key at `path`, created on first start. Processes starting together on one key folder agree on one key: the
 * first link wins (createKeyFile never overwrites), and a process that loses the race reads the winner's key.
 */
export async function loadOrCreateKeyFile(path: string, name: string): Promise<SignerKey> {
  if (existsSync(path)) return readKeyFile(path, name);
  try {
    return await createKeyFile(path, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(path, name);
    throw error;
  }
}

/**
 * Managed signing keys (explicit per-CB opt-in): one file per CB, `<dir>/<slug>.key`, holding a signer-key string
 * named `<slug>.<keyId>`, mode 0600 like every key file.
 */
export function fileManagedKeyStore(dir: string): ManagedKeyStore {
  const path = (slug: string) => join(dir, `${slug}.key`);
  // Parsed keys by slug, reread when the file changes: parsing derives the public key, and one seed object per key
  // lets src/core/crypto.ts import it for signing once (read, parsed and imported for every signature, managed
  // issuance ran at 510/s instead of 1,416/s at 1M entries; scripts/bench/suite.ts).
  const loaded = new Map<string, { stamp: string; key: Promise<{ keyId: string; seed: Uint8Array }> }>();
  return {
    async get(slug) {
      const file = path(slug);
      const stat = statSync(file, { throwIfNoEntry: false });
      if (!stat) {
        loaded.delete(slug);
        return null;
      }
      const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      let entry = loaded.get(slug);
      if (entry?.stamp !== stamp) {
        const key = parseSignerKey(readFileSync(file, 'utf8').trim()).then((parsed) => {
          const keyId = parsed.name.slice(slug.length + 1);
          if (!parsed.name.startsWith(`${slug}.`) || keyId === '') throw new Error(`${file} does not hold a key of ${slug}`);
          return { keyId, seed: parsed.seed };
        });
        const fresh = { stamp, key };
        loaded.set(slug, fresh);
        key.catch(() => {
          if (loaded.get(slug) === fresh) loaded.delete(slug);
        });
        entry = fresh;
      }
      return entry.key;
    },
    async create(slug, keyId) {
      const key = await createKeyFile(path(slug), `${slug}.${keyId}`);
      return { keyId, seed: key.seed };
    },
  };
}
