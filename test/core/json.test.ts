import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.js';
import { RegistryError } from '../../src/core/errors.js';
import { isWellFormedByPattern, isWellFormedString, parseJsonBytes, parseJsonStrict, type JsonValue } from '../../src/core/json.js';

const SUITE = fileURLToPath(new URL('../../../shared/vectors/json/test_parsing/', import.meta.url));

/** JSONTestSuite `y_` files that this parser rejects on purpose: DESIGN §Formats forbids duplicate keys. */
const REJECTED_BY_POLICY = new Set(['y_object_duplicated_key.json', 'y_object_duplicated_key_and_value.json']);

function parseError(run: () => unknown): RegistryError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    const registryError = error as RegistryError;
    expect(registryError.code).toBe('bad-json');
    return registryError;
  }
  throw new Error('expected a parse error');
}

describe('JSONTestSuite (nst/JSONTestSuite test_parsing)', () => {
  const files = readdirSync(SUITE).filter((name) => name.endsWith('.json'));

  it('has the corpus', () => {
    expect(files.length).toBeGreaterThan(300);
  });

  for (const name of files) {
    const bytes = new Uint8Array(readFileSync(join(SUITE, name)));
    if (name.startsWith('y_') && !REJECTED_BY_POLICY.has(name)) {
      it(`accepts ${name}`, () => {
        const value = parseJsonBytes(bytes);
        expect(value).toEqual(JSON.parse(new TextDecoder().decode(bytes)));
      });
    } else if (name.startsWith('n_') || REJECTED_BY_POLICY.has(name)) {
      it(`rejects ${name}`, () => {
        parseError(() => parseJsonBytes(bytes));
      });
    } else if (name.startsWith('i_')) {
      it(`answers ${name} with a value or a RegistryError`, () => {
        try {
          parseJsonBytes(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(RegistryError);
        }
      });
    }
  }
});

describe('parseJsonStrict', () => {
  it('parses the RFC 8259 grammar', () => {
    expect(parseJsonStrict(' {"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"],"b":{}} ')).toEqual({
      a: [1, -2500, true, false, null, 'x\u00e9\n'],
      b: {},
    });
    expect(parseJsonStrict('"\\ud83d\\ude02"')).toBe('\u{1F602}');
    expect(parseJsonStrict('-0')).toBe(-0);
  });

  it('rejects duplicate member names, also when spelled differently', () => {
    expect(parseError(() => parseJsonStrict('{"a":1,"a":2}')).detail).toBe('duplicate member name "a" at offset 7');
    parseError(() => parseJsonStrict('{"a":1,"\\u0061":1}'));
    parseError(() => parseJsonStrict('[{"x":{"k":null,"k":null}}]'));
    parseError(() => parseJsonStrict('{"__proto__":1,"__proto__":2}'));
    expect(parseJsonStrict('{"a":{"a":1}}')).toEqual({ a: { a: 1 } });
  });

  it('keeps "__proto__" as an own member, never as the prototype', () => {
    const value = parseJsonStrict('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('rejects integers beyond ±(2^53 - 1) and numbers that overflow', () => {
    expect(parseJsonStrict('9007199254740991')).toBe(2 ** 53 - 1);
    expect(parseJsonStrict('-9007199254740991')).toBe(-(2 ** 53 - 1));
    expect(parseError(() => parseJsonStrict('[9007199254740992]')).detail).toBe(
      'integer beyond ±(2^53 - 1) at offset 1',
    );
    parseError(() => parseJsonStrict('-9007199254740992'));
    parseError(() => parseJsonStrict('9007199254740993'));
    parseError(() => parseJsonStrict('123456789012345678901234567890'));
    // Not integers in the sense of the rule: a fraction or exponent makes a double.
    expect(parseJsonStrict('9007199254740992.0')).toBe(2 ** 53);
    expect(parseJsonStrict('1e300')).toBe(1e300);
    parseError(() => parseJsonStrict('1e309'));
    parseError(() => parseJsonStrict('-1.5e400'));
  });

  it('rejects lone surrogates, escaped or raw, in values and names', () => {
    for (const text of [
      '"\\ud800"',
      '"\\udc00"',
      '"\\ud800\\u0041"',
      '"\\ude02\\ud83d"',
      '{"\\ud800":1}',
      '"\ud800"',
      '"a\udc00"',
    ]) {
      expect(parseError(() => parseJsonStrict(text)).detail).toMatch(/^lone surrogate/);
    }
    // The UTF-8 form of U+D800 is malformed UTF-8.
    parseError(() => parseJsonBytes(Uint8Array.of(0x22, 0xed, 0xa0, 0x80, 0x22)));
    expect(parseJsonStrict('"\ud83d\ude02"')).toBe('\u{1F602}');
  });

  it('tests well-formedness by the pattern (runtimes without isWellFormed) exactly as String.prototype.isWellFormed', () => {
    const units = ['a', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude02', '\uffff'];
    // Every sequence of one to three of the units: lone, paired and reversed surrogates, at the start, middle and end.
    const strings: string[] = [];
    let level = [''];
    for (let length = 1; length <= 3; length++) {
      level = level.flatMap((prefix) => units.map((unit) => prefix + unit));
      strings.push(...level);
    }
    let illFormed = 0;
    for (const text of strings) {
      const expected = (text as string & { isWellFormed(): boolean }).isWellFormed();
      expect(isWellFormedByPattern(text), JSON.stringify(text)).toBe(expected);
      expect(isWellFormedString(text), JSON.stringify(text)).toBe(expected);
      if (!expected) illFormed++;
    }
    expect(illFormed).toBeGreaterThan(100);
  });

  it('limits nesting depth without overflowing the stack', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(() => parseJsonStrict(deep(64))).not.toThrow();
    expect(parseError(() => parseJsonStrict(deep(65))).detail).toBe('nesting deeper than 64 at offset 64');
    expect(parseError(() => parseJsonStrict(deep(100_000))).detail).toMatch(/^nesting deeper than 64/);
    parseError(() => parseJsonStrict('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)));
    parseError(() => parseJsonStrict('['.repeat(100_000)));
    expect(parseError(() => parseJsonStrict(deep(3), { maxDepth: 2 })).detail).toMatch(/^nesting deeper than 2/);
    // The parser keeps its own stack, so even a very generous limit is safe.
    expect(() => parseJsonStrict(deep(100_000), { maxDepth: 100_000 })).not.toThrow();
  });

  it('rejects trailing data and other malformed input with the offset', () => {
    expect(parseError(() => parseJsonStrict('{} x')).detail).toBe('unexpected data after the JSON value at offset 3');
    parseError(() => parseJsonStrict('[]]'));
    parseError(() => parseJsonStrict('1 2'));
    parseError(() => parseJsonStrict(''));
    parseError(() => parseJsonStrict('[1,]'));
    parseError(() => parseJsonStrict('{"a":1,}'));
    parseError(() => parseJsonStrict('01'));
    parseError(() => parseJsonStrict('"\t"'));
    parseError(() => parseJsonStrict('\u00a0[]'));
    parseError(() => parseJsonStrict('\ufeff[]'));
  });

  it('rejects a byte order mark and malformed UTF-8 in bytes', () => {
    expect(parseError(() => parseJsonBytes(Uint8Array.of(0xef, 0xbb, 0xbf, 0x5b, 0x5d))).detail).toBe(
      'byte order mark at offset 0',
    );
    expect(parseError(() => parseJsonBytes(Uint8Array.of(0x22, 0xff, 0x22))).detail).toBe('malformed UTF-8');
    expect(parseJsonBytes(utf8('{"é":"€"}'))).toEqual({ é: '€' });
  });

  it('agrees with JSON.parse on whatever JSON.stringify produces', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        let parsed: JsonValue;
        try {
          parsed = parseJsonStrict(text);
        } catch (error) {
          // Only large integers printed without an exponent are refused.
          expect((error as RegistryError).detail).toMatch(/^integer beyond/);
          return;
        }
        expect(parsed).toEqual(JSON.parse(text));
      }),
    );
  });

  it('answers any text with a value JSON.parse agrees with, or a RegistryError', () => {
    const jsonish = fc.stringMatching(/^[[\]{}":,0-9eE.+\-a-z\\ \ud800\udc00]{0,30}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), jsonish), (text) => {
        let parsed: JsonValue;
        try {
          parsed = parseJsonStrict(text);
        } catch (error) {
          expect(error).toBeInstanceOf(RegistryError);
          return;
        }
        expect(parsed).toEqual(JSON.parse(text));
      }),
      { numRuns: 2000 },
    );
  });
});
