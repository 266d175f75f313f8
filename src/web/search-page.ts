// The search and landing pages' script (browser only; bundled into public/assets/search-page.js): computes the
// OpenSSF model-signing digest of a dropped or chosen model file or folder in the browser (nothing is uploaded) and
// searches the registry for it.
//
// A single file's digest is its SHA-256; a folder's is SHA-256 over its files' raw SHA-256 digests in model_signing
// path order, git paths ignored (src/core/model-digest.ts, the same code as the CLI). Files up to 256 MiB are
// hashed with WebCrypto in one call; larger ones (and every file where WebCrypto is unavailable, i.e. outside a
// secure context) are streamed through @noble/hashes' incremental SHA-256 in the file's own chunks, so any size
// works without holding the file in memory (at roughly 100-300 MB/s, so a 10 GB model takes about a minute).
import { sha256 } from '@noble/hashes/sha2.js';
import { formatSha256Digest, modelDigestOfFiles, type ModelFile } from '../core/model-digest.js';
import { setUpCopyButtons } from './copy.js';

const ONE_SHOT_LIMIT = 256 * 1024 * 1024;

interface PickedFile {
  /** Path relative to the dropped folder; null for a single file. */
  path: string | null;
  file: File;
}

function status(text: string, state: 'busy' | 'done' | 'error' = 'busy'): void {
  const el = document.getElementById('hash-status');
  if (!el) return;
  el.textContent = text;
  el.dataset.state = state;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

async function hashFile(file: File, onProgress: (bytes: number) => void): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle && file.size <= ONE_SHOT_LIMIT) {
    return new Uint8Array(await subtle.digest('SHA-256', await file.arrayBuffer()));
  }
  const hash = sha256.create();
  const reader = file.stream().getReader();
  let done = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    hash.update(chunk.value);
    done += chunk.value.length;
    onProgress(done);
  }
  return hash.digest();
}

async function digestOf(picked: readonly PickedFile[]): Promise<string> {
  const total = picked.reduce((n, p) => n + p.file.size, 0);
  let before = 0;
  const progress = (bytes: number) => status(`Hashing… ${megabytes(before + bytes)} of ${megabytes(total)}`);
  const single = picked.length === 1 && picked[0]!.path === null;
  const files: ModelFile[] = [];
  for (const p of picked) {
    progress(0);
    const digest = await hashFile(p.file, progress);
    before += p.file.size;
    if (single) return formatSha256Digest(digest);
    files.push({ path: p.path ?? p.file.name, sha256: digest });
  }
  return modelDigestOfFiles(files);
}

/** Drops the first path component (the folder's own name). */
function relativeToRoot(path: string): string {
  const parts = path.split('/').filter((part) => part !== '');
  return parts.slice(1).join('/');
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    out.push({ path: relativeToRoot(entry.fullPath), file: await fileOf(entry as FileSystemFileEntry) });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await readEntries(reader);
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}

async function pickedFromDrop(data: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(data.items).map((item) => item.webkitGetAsEntry?.() ?? null).filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 1 && entries[0]!.isDirectory) {
    const out: PickedFile[] = [];
    await walk(entries[0]!, out);
    return out;
  }
  const files = Array.from(data.files);
  if (files.length !== 1) throw new Error('drop one model file or one model folder');
  return [{ path: null, file: files[0]! }];
}

async function search(picked: readonly PickedFile[]): Promise<void> {
  if (picked.length === 0) throw new Error('the folder holds no file');
  const digest = await digestOf(picked);
  status(`Digest ${digest}; searching…`, 'done');
  const input = document.getElementById('q');
  const form = input instanceof HTMLInputElement ? input.form : null;
  if (!(input instanceof HTMLInputElement) || !form) return;
  input.value = digest;
  form.requestSubmit();
}

function run(task: () => Promise<void>): void {
  task().catch((error: unknown) => status(`Could not hash it: ${error instanceof Error ? error.message : String(error)}`, 'error'));
}

function start(): void {
  setUpCopyButtons(document);
  const zone = document.getElementById('dropzone');
  if (!zone) return;
  zone.hidden = false;
  const fileInput = document.getElementById('model-file');
  if (fileInput instanceof HTMLInputElement) {
    fileInput.addEventListener('change', () => {
      const file = fileInput.files?.[0];
      if (file) run(() => search([{ path: null, file }]));
    });
  }
  const dirInput = document.getElementById('model-dir');
  if (dirInput instanceof HTMLInputElement) {
    dirInput.addEventListener('change', () => {
      const files = dirInput.files ? Array.from(dirInput.files) : [];
      run(() => search(files.map((file) => ({ path: relativeToRoot(file.webkitRelativePath || file.name), file }))));
    });
  }
  // Dropping anywhere on the page works; the zone shows where.
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dropzone--over');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) zone.classList.remove('dropzone--over');
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dropzone--over');
    const data = event.dataTransfer;
    if (data) run(async () => search(await pickedFromDrop(data)));
  });
}

start();
