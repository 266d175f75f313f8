import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { sha256 } from '../../src/core/crypto.js';
import { RegistryError } from '../../src/core/errors.js';
import {
  compareModelPaths,
  isIgnoredModelPath,
  isModelPath,
  modelDigestOfFile,
  modelDigestOfFiles,
  SHA256_DIGEST,
  type ModelFile,
} from '../../src/core/model-digest.js';

const file = (path: string, content: string): ModelFile => ({ path, sha256: sha256(utf8(content)) });

function expectBadRequest(fn: () => unknown, detail: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('bad-request');
    expect((error as RegistryError).detail).toMatch(detail);
    return;
  }
  throw new Error('expected a RegistryError');
}

describe('modelDigestOfFile', () => {
  it('is the SHA-256 of the file (FIPS 180-2 "abc")', () => {
    expect(modelDigestOfFile(utf8('abc'))).toBe(
      'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(modelDigestOfFile(utf8('abc'))).toMatch(SHA256_DIGEST);
  });
});

describe('modelDigestOfFiles (OpenSSF model-signing v1.0, method "files")', () => {
  // Hand-computed with Python's hashlib and model_signing's rules: sorted(PurePosixPath) and the default git
  // exclusions joined to the model root (`is_relative_to`), so only top-level git paths are dropped.
  //   a/x.bin         sha256("X")  = 4b68ab38…5df64b8015
  //   a-b.txt         sha256("AB") = 38164fbd…3fd6964153
  //   b.bin           sha256("B")  = df7e70e5…db03320a5c
  //   sub/.gitignore  sha256("S")  = 8de0b3c4…23af4ad643
  // digest = sha256(concatenation of the four raw digests, in that order)
  const model = [
    file('b.bin', 'B'),
    file('.gitignore', '*.tmp\n'),
    file('a-b.txt', 'AB'),
    file('.git/HEAD', 'ref: refs/heads/main\n'),
    file('sub/.gitignore', 'S'),
    file('.github/workflows/ci.yml', 'on: push\n'),
    file('a/x.bin', 'X'),
    file('.gitattributes', '* text=auto\n'),
  ];
  const expected = 'sha256:22c870c6c3b47ee58561922fd1cfb89ccab01890ee8fed60f93a1934494c6fe1';

  it('matches the hand-computed example', () => {
    expect(modelDigestOfFiles(model)).toBe(expected);
  });

  it('is SHA-256 over the raw digests in model_signing order', () => {
    const ordered = ['a/x.bin', 'a-b.txt', 'b.bin', 'sub/.gitignore'].map(
      (path) => model.find((f) => f.path === path)!.sha256,
    );
    const joined = new Uint8Array(ordered.length * 32);
    ordered.forEach((d, i) => joined.set(d, i * 32));
    expect(`sha256:${toHex(sha256(joined))}`).toBe(expected);
    expect(toHex(ordered[0]!)).toBe('4b68ab3847feda7d6c62c1fbcbeebfa35eab7351ed5e78f4ddadea5df64b8015');
  });

  it('hashes a one-file directory as SHA-256 of its digest, unlike the "file" method', () => {
    const digest = sha256(utf8('weights'));
    expect(modelDigestOfFiles([{ path: 'model.bin', sha256: digest }])).toBe(`sha256:${toHex(sha256(digest))}`);
    expect(modelDigestOfFile(utf8('weights'))).toBe(`sha256:${toHex(digest)}`);
  });

  it('does not depend on the order of the input', () => {
    const paths = fc.uniqueArray(
      fc.array(fc.constantFrom('a', 'b', 'a-b', 'a.b', 'Z', 'é', '😀', '～', '.git', '.gitignore'), {
        minLength: 1,
        maxLength: 3,
      }).map((parts) => parts.join('/')),
      { minLength: 1, maxLength: 12 },
    );
    const listAndPermutation = paths.chain((list) =>
      fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
    );
    fc.assert(
      fc.property(listAndPermutation, ([list, permuted]) => {
        fc.pre(!list.every(isIgnoredModelPath));
        const files = (paths: string[]) => paths.map((path) => file(path, path));
        expect(modelDigestOfFiles(files(permuted))).toBe(modelDigestOfFiles(files(list)));
      }),
    );
  });

  it('is unchanged by adding files under the ignored git paths', () => {
    const base = [file('weights.safetensors', 'w'), file('config.json', '{}')];
    fc.assert(
      fc.property(
        fc.constantFrom('.git', '.github', '.gitignore', '.gitattributes'),
        fc.array(fc.constantFrom('x', 'y', 'HEAD'), { maxLength: 3 }),
        (top, rest) => {
          const extra = file([top, ...rest].join('/'), 'ignored');
          expect(modelDigestOfFiles([...base, extra])).toBe(modelDigestOfFiles(base));
        },
      ),
    );
  });

  it('refuses malformed input', () => {
    const d = sha256(utf8('x'));
    for (const path of ['', '/abs', 'a//b', './a', 'a/./b', 'a/../b', '..', 'a/', 'nul\u0000', '\ud800']) {
      expectBadRequest(() => modelDigestOfFiles([{ path, sha256: d }]), /not a relative POSIX path/);
    }
    expectBadRequest(() => modelDigestOfFiles([file('a', '1'), file('a', '2')]), /repeats/);
    expectBadRequest(() => modelDigestOfFiles([{ path: 'a', sha256: new Uint8Array(31) }]), /32 bytes/);
    expectBadRequest(() => modelDigestOfFiles([]), /no files/);
    expectBadRequest(() => modelDigestOfFiles([file('.gitignore', 'x'), file('.git/HEAD', 'y')]), /no files/);
  });
});

describe('model paths', () => {
  it('ignores only the top-level git paths and what they contain', () => {
    const ignored = ['.git', '.git/HEAD', '.git/objects/ab/cd', '.github/workflows/ci.yml', '.gitignore', '.gitattributes'];
    const kept = ['sub/.gitignore', 'sub/.git/HEAD', '.gitmodules', '.github-pages/x', '.gitignore2', 'git', 'README.md'];
    for (const path of ignored) expect(isIgnoredModelPath(path), path).toBe(true);
    for (const path of kept) expect(isIgnoredModelPath(path), path).toBe(false);
  });

  it('sorts component-wise by code point, as PurePosixPath does', () => {
    const sorted = ['b.bin', 'a-b.txt', 'a/x.bin', 'a', '😀', '～', 'B'].sort(compareModelPaths);
    // 'a' < 'a/x.bin' (prefix) < 'a-b.txt' ('a' < 'a-b' as components) although '-' < '/' as characters;
    // U+FF5E < U+1F600 by code point although its UTF-16 unit 0xFF5E > 0xD83D.
    expect(sorted).toEqual(['B', 'a', 'a/x.bin', 'a-b.txt', 'b.bin', '～', '😀']);
  });

  it('accepts normalized relative paths only', () => {
    expect(isModelPath('a/b/c.bin')).toBe(true);
    expect(isModelPath('.hidden/file')).toBe(true);
    expect(isModelPath('a\\b')).toBe(true); // a backslash is an ordinary character in a POSIX name
    expect(isModelPath('a//b')).toBe(false);
  });
});
