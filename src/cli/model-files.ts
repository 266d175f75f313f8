// The files of a model on disk and their streamed SHA-256 digests, fed to core's OpenSSF model-signing v1.0 digest
// (src/core/model-digest.ts, which fixes the ordering, the git exclusions and the final hash).
//
// Invariants:
//  - memory is constant in the size of the files: each file is read in 1 MiB chunks into one running hash;
//  - paths are POSIX and relative to the model root, built from directory entries (never from OS separators);
//  - the top-level `.git`, `.github`, `.gitattributes` and `.gitignore` are not read at all (core ignores them too);
//  - symbolic links are refused, as model_signing does by default (allow_symlinks=False): a link could point
//    outside the model, so its digest would not describe the directory. So are FIFOs, sockets and devices;
//  - a file name that is not UTF-8 is refused: the manifest path would not name the file unambiguously;
//  - a file whose size changes while it is hashed is refused: the digest would describe no version of it.
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { compareModelPaths, formatSha256Digest, isIgnoredModelPath, modelDigestOfFiles, type ModelFile } from '../core/model-digest.js';

const CHUNK = 1 << 20;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface ModelFileEntry {
  /** POSIX path relative to the model root; for a single-file model, the file's own name. */
  path: string;
  /** Where to read it. */
  absolute: string;
  size: number;
}

export interface ModelListing {
  /** "file": the model is one file (its digest is its SHA-256); "files": a directory. */
  method: 'file' | 'files';
  files: ModelFileEntry[];
  bytes: number;
}

export interface HashedModelFile extends ModelFileEntry {
  sha256: Uint8Array;
}

export interface HashedModel extends ModelListing {
  /** `sha256:<hex>` */
  digest: string;
  files: HashedModelFile[];
}

export class ModelFilesError extends Error {}

/** Lists a model: one regular file, or every regular file under a directory (without reading them). */
export async function listModelFiles(root: string): Promise<ModelListing> {
  const top = await lstat(root).catch((error: NodeJS.ErrnoException) => {
    throw new ModelFilesError(`${root}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`);
  });
  if (top.isSymbolicLink()) throw new ModelFilesError(`${root} is a symbolic link; give the file or directory it points to`);
  if (top.isFile()) {
    const name = root.split(/[\\/]/).filter(Boolean).pop() ?? root;
    return { method: 'file', files: [{ path: name, absolute: root, size: top.size }], bytes: top.size };
  }
  if (!top.isDirectory()) throw new ModelFilesError(`${root} is neither a regular file nor a directory`);

  const files: ModelFileEntry[] = [];
  const refused: string[] = [];
  const stack: Array<{ absolute: string; relative: string }> = [{ absolute: root, relative: '' }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const entries = await readdir(dir.absolute, { withFileTypes: true, encoding: 'buffer' });
    for (const entry of entries) {
      let name: string;
      try {
        name = UTF8.decode(entry.name);
      } catch {
        refused.push(`${dir.relative === '' ? '' : `${dir.relative}/`}${entry.name.toString('latin1')} (name is not UTF-8)`);
        continue;
      }
      const relative = dir.relative === '' ? name : `${dir.relative}/${name}`;
      if (dir.relative === '' && isIgnoredModelPath(relative)) continue;
      const absolute = join(dir.absolute, name);
      if (entry.isSymbolicLink()) refused.push(`${relative} (symbolic link)`);
      else if (entry.isDirectory()) stack.push({ absolute, relative });
      else if (entry.isFile()) files.push({ path: relative, absolute, size: (await lstat(absolute)).size });
      else refused.push(`${relative} (not a regular file)`);
    }
  }
  if (refused.length > 0) {
    const shown = refused.slice(0, 10).map((r) => `  ${r}`).join('\n');
    const more = refused.length > 10 ? `\n  … and ${refused.length - 10} more` : '';
    throw new ModelFilesError(`${root} holds entries a model digest cannot cover (symbolic links are not followed):\n${shown}${more}`);
  }
  files.sort((a, b) => compareModelPaths(a.path, b.path));
  return { method: 'files', files, bytes: files.reduce((sum, f) => sum + f.size, 0) };
}

/** Streams one file through SHA-256, reporting each chunk's length to `onBytes`. */
export async function hashFile(file: ModelFileEntry, onBytes: (n: number) => void = () => {}): Promise<Uint8Array> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of createReadStream(file.absolute, { highWaterMark: CHUNK })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    read += bytes.length;
    onBytes(bytes.length);
  }
  if (read !== file.size) throw new ModelFilesError(`${file.path} changed while it was hashed (${file.size} bytes listed, ${read} read)`);
  return new Uint8Array(hash.digest());
}

/**
 * The model digest of a file or directory. A single file's digest is its SHA-256 (method "file"); a directory's is
 * core's modelDigestOfFiles over the per-file digests (method "files").
 */
export async function hashModel(listing: ModelListing, onBytes?: (n: number) => void): Promise<HashedModel> {
  const files: HashedModelFile[] = [];
  for (const file of listing.files) files.push({ ...file, sha256: await hashFile(file, onBytes) });
  const digest = listing.method === 'file'
    ? formatSha256Digest(files[0]!.sha256)
    : modelDigestOfFiles(files.map((f): ModelFile => ({ path: f.path, sha256: f.sha256 })));
  return { ...listing, files, digest };
}
