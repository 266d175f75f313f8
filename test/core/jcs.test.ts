import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.js';
import { RegistryError } from '../../src/core/errors.js';
import { canonicalBytes, canonicalize, type CanonicalMemo } from '../../src/core/jcs.js';
import { parseJsonBytes, parseJsonStrict, type JsonValue } from '../../src/core/json.js';

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/jcs/', import.meta.url));

function rejects(value: unknown): void {
  expect(() => canonicalize(value as JsonValue)).toThrow(RegistryError);
}

/** A double from its IEEE 754 bit pattern, as RFC 8785 Appendix B lists them. */
function double(hex: string): number {
  return new DataView(fromHex(hex).buffer).getFloat64(0);
}

describe('RFC 8785 conformance vectors (cyberphone/json-canonicalization)', () => {
  const names = readdirSync(join(VECTORS, 'input'));

  it('has the vectors', () => {
    expect(names.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of names) {
    it(`canonicalizes ${name} byte for byte`, () => {
      const input = parseJsonBytes(new Uint8Array(readFileSync(join(VECTORS, 'input', name))));
      const expected = new Uint8Array(readFileSync(join(VECTORS, 'output', name)));
      const expectedHex = readFileSync(join(VECTORS, 'outhex', name.replace(/\.json$/, '.txt')), 'utf8');
      const bytes = canonicalBytes(input);
      expect(bytes).toEqual(expected);
      expect(bytes).toEqual(fromHex(expectedHex.replace(/\s+/g, '')));
      expect(canonicalize(input)).toBe(new TextDecoder().decode(expected));
    });
  }
});

describe('canonicalize', () => {
  it('serializes numbers as ECMAScript does (§3.2.2.3, Appendix B)', () => {
    const cases: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, text] of cases) expect(canonicalize(double(hex))).toBe(text);
    rejects(double('7fffffffffffffff'));
    rejects(double('7ff0000000000000'));
  });

  it('rejects values with no JSON form', () => {
    rejects(NaN);
    rejects(Infinity);
    rejects(-Infinity);
    rejects([1, Number.NaN]);
    rejects(undefined);
    rejects({ a: undefined });
    rejects([undefined]);
    rejects(10n);
    rejects(() => 1);
  });

  it('rejects lone surrogates in values and member names (§3.1)', () => {
    rejects('\ud800');
    rejects('a\udc00b');
    rejects({ '\udfff': 1 });
    rejects(['\ude02\ud83d']);
    expect(canonicalize('\ud83d\ude02')).toBe('"\u{1F602}"');
  });

  it('escapes only what §3.2.2.2 requires', () => {
    let all = '';
    for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c);
    expect(canonicalize(all + '"\\/\u007f\u2028\u00e9')).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017' +
        '\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f' +
        '\\"\\\\/\u007f\u2028\u00e9"',
    );
  });

  it('sorts member names by UTF-16 code units, not code points (§3.2.3)', () => {
    // U+1F602 is D83D DE02 in UTF-16, which sorts before U+FB33 although its code point is larger.
    expect(canonicalize({ '\ufb33': 1, '\u{1F602}': 2, a: 3, B: 4, '': 5 })).toBe(
      '{"":5,"B":4,"a":3,"\u{1F602}":2,"\ufb33":1}',
    );
  });

  it('keeps a "__proto__" member', () => {
    expect(canonicalize(parseJsonStrict('{"b":1,"__proto__":2}'))).toBe('{"__proto__":2,"b":1}');
  });

  it('is what JSON.parse reads back, independent of member order, and a fixed point', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalize(value as JsonValue);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalize(JSON.parse(text) as JsonValue)).toBe(text);
        expect(canonicalize(reverseMembers(value as JsonValue))).toBe(text);
      }),
    );
  });

  it('gives the same text with a memo, which later calls on overlapping values reuse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const memo: CanonicalMemo = new WeakMap();
        const inner = { a: a as JsonValue, b: b as JsonValue };
        // As the registry does: the document without one member first, then the whole inside its entry.
        expect(canonicalize({ a: inner.a }, memo)).toBe(canonicalize({ a: inner.a }));
        const outer = { v: 1, body: inner, list: [inner, inner.a] };
        expect(canonicalize(outer, memo)).toBe(canonicalize(outer));
        expect(canonicalize(outer, memo)).toBe(canonicalize(outer));
        if (typeof inner.a === 'object' && inner.a !== null) expect(memo.get(inner.a)).toBe(canonicalize(inner.a));
      }),
    );
  });

  it('serves what the memo holds for an object: a memo is only for values nobody modifies', () => {
    const memo: CanonicalMemo = new WeakMap();
    const value: { [k: string]: JsonValue } = { x: 1 };
    expect(canonicalize({ value }, memo)).toBe('{"value":{"x":1}}');
    value.x = 2;
    expect(canonicalize({ value }, memo)).toBe('{"value":{"x":1}}');
    expect(canonicalize({ value })).toBe('{"value":{"x":2}}');
  });
});

function reverseMembers(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(reverseMembers);
  if (value === null || typeof value !== 'object') return value;
  const out: { [k: string]: JsonValue } = {};
  for (const key of Object.keys(value).reverse()) {
    Object.defineProperty(out, key, { value: reverseMembers(value[key]!), enumerable: true, writable: true });
  }
  return out;
}
