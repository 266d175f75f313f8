// Model digests as in OpenSSF model-signing v1.0 (sigstore/model-transparency, predicate
// `https://model_signing/signature/v1.0`), DESIGN §Formats. Pure: no I/O; callers hash the files.
//
// method "files" (a model directory), as model_signing's `file.Serializer` and signing `Payload` compute it:
//  - every regular file gets a manifest item (POSIX path relative to the model root, SHA-256 of its bytes);
//  - with the default `ignore_git_paths=True`, the paths `.git/`, `.gitattributes`, `.github/`, `.gitignore`
//    are joined to the model root and every file that `is_relative_to` one of them is skipped. So only these
//    names at the top of the model are ignored (and everything under them): `sub/.gitignore` is hashed;
//  - items are sorted as Python sorts `PurePosixPath` keys: component by component, each component by code
//    point (which is also UTF-8 byte order), so "a/b" sorts before "a-b" although '-' < '/';
//  - the model digest is SHA-256 over the concatenated raw 32-byte digests in that order;
//  - a model with no file left after the exclusions is an error ("no regular files after applying exclusions").
// The signature file itself (e.g. `model.sig`) is another ignore path that model_signing adds; callers that
// keep one inside the model directory drop it before calling.
//
// method "file" (a single file): the file's own SHA-256, as DESIGN fixes. model_signing's subject digest for a
// one-file model would be SHA-256 of that one digest; we keep the plain file hash because that is what
// `sha256sum`, Hugging Face and in-toto subjects show for a file.
import { toHex, utf8 } from './bytes.js';
import { sha256 } from './crypto.js';
import { RegistryError } from './errors.js';
import { isWellFormedString } from './json.js';

/** `sha256:` + 64 lowercase hex digits: the form of every model and evidence digest. */
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Top-level names model_signing ignores by default (`ignore_git_paths=True`), with all they contain. */
export const IGNORED_MODEL_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];

const SHA256_LENGTH = 32;

export interface ModelFile {
  /** POSIX path relative to the model root: `/`-separated, no empty, `.` or `..` component. */
  path: string;
  /** Raw SHA-256 of the file's bytes. */
  sha256: Uint8Array;
}

/** `sha256:<hex>` of a raw 32-byte SHA-256 digest. */
export function formatSha256Digest(digest: Uint8Array): string {
  if (digest.length !== SHA256_LENGTH) {
    throw new RegistryError('bad-request', `a SHA-256 digest has ${SHA256_LENGTH} bytes, not ${digest.length}`);
  }
  return `sha256:${toHex(digest)}`;
}

/** The "file" serialization: a single file's digest is its SHA-256. */
export function modelDigestOfFile(content: Uint8Array): string {
  return formatSha256Digest(sha256(content));
}

/** Whether model_signing's default git exclusions drop `path` (its first component is one of them). */
export function isIgnoredModelPath(path: string): boolean {
  const first = path.split('/', 1)[0]!;
  return IGNORED_MODEL_PATHS.includes(first);
}

/** Whether `path` is a normalized relative POSIX path, the form model_signing records in its manifest. */
export function isModelPath(path: string): boolean {
  if (path.length === 0 || path.length > 4096 || path.includes('\u0000') || !isWellFormedString(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * Orders paths as model_signing sorts its `PurePosixPath` manifest keys: the lists of components are compared
 * lexicographically, each component by code point (equal to comparing their UTF-8 bytes).
 */
export function compareModelPaths(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    const c = compareCodePoints(as[i]!, bs[i]!);
    if (c !== 0) return c;
  }
  return as.length - bs.length;
}

function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const x = utf8(a);
  const y = utf8(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

/**
 * The "files" serialization of a model directory: `sha256:` + SHA-256 over the raw per-file digests, files in
 * model_signing order, git paths ignored. Throws RegistryError('bad-request') for a malformed or repeated path,
 * a digest that is not 32 bytes, or no file left after the exclusions.
 */
export function modelDigestOfFiles(files: ReadonlyArray<ModelFile>): string {
  const seen = new Set<string>();
  const kept: ModelFile[] = [];
  for (const file of files) {
    if (!isModelPath(file.path)) {
      throw new RegistryError('bad-request', `model path ${JSON.stringify(file.path)} is not a relative POSIX path`);
    }
    if (seen.has(file.path)) throw new RegistryError('bad-request', `model path ${JSON.stringify(file.path)} repeats`);
    seen.add(file.path);
    if (file.sha256.length !== SHA256_LENGTH) {
      throw new RegistryError('bad-request', `digest of ${JSON.stringify(file.path)} is not ${SHA256_LENGTH} bytes`);
    }
    if (!isIgnoredModelPath(file.path)) kept.push(file);
  }
  if (kept.length === 0) throw new RegistryError('bad-request', 'model has no files after the git exclusions');
  kept.sort((a, b) => compareModelPaths(a.path, b.path));
  const joined = new Uint8Array(kept.length * SHA256_LENGTH);
  kept.forEach((file, i) => joined.set(file.sha256, i * SHA256_LENGTH));
  return formatSha256Digest(sha256(joined));
}
