import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64, toHex } from '../../src/core/bytes.js';
import { formatCheckpoint, parseCheckpoint, type Checkpoint } from '../../src/core/checkpoint.js';
import { RegistryError } from '../../src/core/errors.js';

// The example of c2sp.org/tlog-checkpoint.
const SPEC_BODY = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const ROOT = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';

function rejects(text: string): void {
  let err: unknown;
  try {
    parseCheckpoint(text);
  } catch (e) {
    err = e;
  }
  expect(err, JSON.stringify(text)).toBeInstanceOf(RegistryError);
  expect((err as RegistryError).code).toBe('bad-request');
}

describe('checkpoint body', () => {
  it('parses and re-formats the spec example', () => {
    const c = parseCheckpoint(SPEC_BODY);
    expect(c.origin).toBe('example.com/behind-the-sofa');
    expect(c.size).toBe(20852163);
    expect(toBase64(c.root)).toBe(ROOT);
    expect(c.extensions).toEqual([]);
    expect(formatCheckpoint(c)).toBe(SPEC_BODY);
  });

  it('keeps extension lines and the empty tree', () => {
    const text = `log\n0\n${ROOT}\next one\nsecond\n`;
    const c = parseCheckpoint(text);
    expect(c.size).toBe(0);
    expect(c.extensions).toEqual(['ext one', 'second']);
    expect(formatCheckpoint(c)).toBe(text);
  });

  it('accepts the largest safe size', () => {
    expect(parseCheckpoint(`log\n${Number.MAX_SAFE_INTEGER}\n${ROOT}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects malformed bodies', () => {
    for (const text of [
      '',
      'log\n1\n',
      `log\n1\n${ROOT}`, // no final newline
      `\n1\n${ROOT}\n`, // empty origin
      `log\n01\n${ROOT}\n`, // leading zero
      `log\n00\n${ROOT}\n`,
      `log\n-1\n${ROOT}\n`,
      `log\n+1\n${ROOT}\n`,
      `log\n1.0\n${ROOT}\n`,
      `log\n1e3\n${ROOT}\n`,
      `log\n 1\n${ROOT}\n`,
      `log\n\n${ROOT}\n`,
      `log\n9007199254740992\n${ROOT}\n`, // 2^53
      `log\n99999999999999999999999\n${ROOT}\n`,
      'log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n', // unpadded
      'log\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n', // base64url
      'log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n', // non-zero trailing bits
      `log\n1\n${toBase64(new Uint8Array(31))}\n`, // 31-byte root
      `log\n1\n${toBase64(new Uint8Array(33))}\n`,
      `log\n1\n${ROOT}\n\n`, // empty extension line
      `log\n1\n${ROOT}\next\n\n`,
      `log\n1\n${ROOT}\r\n`, // CR
      `lo\tg\n1\n${ROOT}\n`, // control character
    ]) {
      rejects(text);
    }
  });

  it('refuses to format what it could not parse', () => {
    const ok: Checkpoint = { origin: 'log', size: 1, root: new Uint8Array(32), extensions: [] };
    for (const c of [
      { ...ok, origin: '' },
      { ...ok, origin: 'a\nb' },
      { ...ok, size: -1 },
      { ...ok, size: 1.5 },
      { ...ok, size: 2 ** 53 },
      { ...ok, root: new Uint8Array(31) },
      { ...ok, extensions: [''] },
      { ...ok, extensions: ['a\nb'] },
    ]) {
      expect(() => formatCheckpoint(c)).toThrow(RegistryError);
    }
  });

  it('round-trips any valid checkpoint', () => {
    const line = fc.string({ minLength: 1, unit: 'grapheme' }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(
        line,
        fc.maxSafeNat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, root, extensions) => {
          const text = formatCheckpoint({ origin, size, root, extensions });
          const c = parseCheckpoint(text);
          expect(c).toEqual({ origin, size, root, extensions });
          expect(toHex(c.root)).toBe(toHex(root));
          expect(formatCheckpoint(c)).toBe(text);
        },
      ),
    );
  });
});
