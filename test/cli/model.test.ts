// `certrail model digest` as the real command on a generated model directory (nested folders, a top-level .git/ that
// is ignored, a nested .gitignore that is not, a 200 MB file written in chunks), checked against a digest computed
// independently: per-file digests from the system's sha256sum, concatenated in model_signing path order, then SHA-256.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/registry.js';
import { certrail } from './run-cli.js';

/** model_signing orders manifest paths component by component, each by its UTF-8 bytes. */
function comparePaths(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const c = Buffer.compare(Buffer.from(as[i]!), Buffer.from(bs[i]!));
    if (c !== 0) return c;
  }
  return as.length - bs.length;
}

/** `sha256sum` of one file, as raw bytes. */
function sha256sum(path: string): Buffer {
  return Buffer.from(execFileSync('sha256sum', ['-b', path], { encoding: 'utf8' }).slice(0, 64), 'hex');
}

describe('certrail model digest', { timeout: 60_000 }, () => {
  const dir = tempDir();
  const model = join(dir.path, 'model');
  const files: Record<string, string | null> = {
    'config.json': '{"architectures": ["Example"]}\n',
    'tokenizer/vocab.txt': 'a\nb\nc\n',
    'tokenizer/merges.txt': 'a b\n',
    'a/b': 'sorted before a-b although "-" < "/"\n',
    'a-b': 'after a/b\n',
    'nested/deeper/still/weights.bin': 'nested weights\n',
    'nested/.gitignore': '*.tmp\n', // not top-level: hashed
    'model-00001-of-00001.safetensors': null, // the 200 MB file
  };
  const ignored = ['.git/HEAD', '.git/objects/ab/cdef', '.gitattributes', '.github/workflows/ci.yml', '.gitignore'];

  beforeAll(() => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(model, path, '..'), { recursive: true });
      if (content !== null) writeFileSync(join(model, path), content);
    }
    for (const path of ignored) {
      mkdirSync(join(model, path, '..'), { recursive: true });
      writeFileSync(join(model, path), `ignored ${path}\n`);
    }
    // 200 MB in 1 MiB chunks, each different.
    const chunk = Buffer.alloc(1 << 20);
    const fd = openSync(join(model, 'model-00001-of-00001.safetensors'), 'w');
    try {
      for (let i = 0; i < 200; i++) {
        chunk.fill(i & 0xff);
        chunk.writeUInt32BE(i, 0);
        writeSync(fd, chunk);
      }
    } finally {
      closeSync(fd);
    }
  });
  afterAll(() => dir.remove());

  it('equals the digest built from sha256sum of each file, in path order, git paths ignored', async () => {
    const run = await certrail(['model', 'digest', model, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);

    const paths = Object.keys(files).sort(comparePaths);
    const digests = paths.map((p) => sha256sum(join(model, p)));
    const expected = `sha256:${createHash('sha256').update(Buffer.concat(digests)).digest('hex')}`;
    expect(result.digest).toBe(expected);
    expect(result.serialization).toEqual({ method: 'files', hashType: 'sha256' });
    expect(result.files.map((f: { path: string }) => f.path)).toEqual(paths);
    expect(result.files.map((f: { sha256: string }) => f.sha256)).toEqual(digests.map((d) => d.toString('hex')));
    expect(result.bytes).toBeGreaterThan(200 * (1 << 20));
  });

  it('gives a single file its own SHA-256, and refuses symbolic links (exit 2)', async () => {
    const single = join(model, 'config.json');
    const linked = join(dir.path, 'linked');
    mkdirSync(linked);
    writeFileSync(join(linked, 'weights.bin'), 'w');
    symlinkSync(single, join(linked, 'outside.json'));
    const [one, link, empty] = await Promise.all([
      certrail(['model', 'digest', single]),
      certrail(['model', 'digest', linked]),
      certrail(['model', 'digest', join(dir.path, 'missing')]),
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.split('\n')[0]).toBe(`sha256:${sha256sum(single).toString('hex')}`);
    expect(one.stdout).toContain('"method":"file"');
    expect(link.code).toBe(2);
    expect(link.stderr).toContain('outside.json (symbolic link)');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no such file or directory');
  });
});
