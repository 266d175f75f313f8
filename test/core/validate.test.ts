import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/core/errors.js';
import * as v from '../../src/core/validate.js';
import { Invalid, formatPath } from '../../src/core/validate.js';

/** The RegistryError detail of parsing `value`, or null when it parses. */
function problem(schema: v.Schema<unknown>, value: unknown): string | null {
  try {
    v.parse(schema, value);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('bad-request');
    return (error as RegistryError).detail;
  }
}

const name = v.string({ minLength: 1, maxLength: 5, pattern: [/^[a-z]*$/, 'must be lowercase letters'] });
const item = v.object({ id: v.int(0, 9), tag: v.optional(v.literal('x')) });
const doc = v.object(
  {
    kind: v.enumOf(['a', 'b']),
    name,
    items: v.array(item, { minItems: 1, maxItems: 3 }),
    flag: v.optional(v.boolean()),
    pair: v.optional(v.tuple([v.literal('first')], name, { maxItems: 3 })),
  },
  (d) => (d.kind === 'b' && d.flag === undefined ? new Invalid(['flag'], 'is required when kind is b') : null),
);
const good = { name: 'ab', kind: 'a', items: [{ tag: 'x', id: 1 }], pair: ['first', 'cd'] };

describe('validators', () => {
  it('return a copy with members in schema order and absent optionals left out', () => {
    const out = v.parse(doc, good);
    expect(JSON.stringify(out)).toBe('{"kind":"a","name":"ab","items":[{"id":1,"tag":"x"}],"pair":["first","cd"]}');
    expect(out).not.toBe(good);
    expect(Object.hasOwn(out, 'flag')).toBe(false);
  });

  it.each([
    ['a number for a string', { ...good, name: 3 }, 'name: must be a string'],
    ['null for an object', { ...good, items: [null] }, 'items[0]: must be an object'],
    ['an array for an object', [], '(document): must be an object'],
    ['an object for an array', { ...good, items: {} }, 'items: must be an array'],
    ['a string for a boolean', { ...good, flag: 'true' }, 'flag: must be true or false'],
    ['a fraction for an integer', { ...good, items: [{ id: 1.5 }] }, 'items[0].id: must be an integer'],
    ['an unsafe integer', { ...good, items: [{ id: 2 ** 53 }] }, 'items[0].id: must be an integer'],
    ['an integer below the minimum', { ...good, items: [{ id: -1 }] }, 'items[0].id: must be at least 0'],
    ['an integer above the maximum', { ...good, items: [{ id: 10 }] }, 'items[0].id: must be at most 9'],
    ['an empty string', { ...good, name: '' }, 'name: must not be empty'],
    ['a string too long', { ...good, name: 'abcdef' }, 'name: must have at most 5 characters'],
    ['a string off its pattern', { ...good, name: 'AB' }, 'name: must be lowercase letters'],
    ['another literal', { ...good, items: [{ id: 1, tag: 'y' }] }, 'items[0].tag: must be "x"'],
    ['a value outside the enum', { ...good, kind: 'c' }, 'kind: must be one of "a", "b"'],
    ['an empty array', { ...good, items: [] }, 'items: must have at least 1 item'],
    ['an array too long (before its items are looked at)', { ...good, items: [{}, {}, {}, {}] }, 'items: must have at most 3 items'],
    ['a missing member', { kind: 'a', items: [{ id: 1 }] }, 'name: is required'],
    ['a missing nested member', { ...good, items: [{ tag: 'x' }] }, 'items[0].id: is required'],
    ['an unknown member', { ...good, extra: 1 }, 'extra: is not allowed here'],
    ['an unknown nested member', { ...good, items: [{ id: 1, extra: 1 }] }, 'items[0].extra: is not allowed here'],
    ['a __proto__ member', JSON.parse('{"kind":"a","name":"ab","items":[{"id":1}],"__proto__":1}'), '__proto__: is not allowed here'],
    ['a tuple without its first item', { ...good, pair: [] }, 'pair: must have at least 1 item'],
    ['a tuple with a wrong first item', { ...good, pair: ['second'] }, 'pair[0]: must be "first"'],
    ['a tuple with a wrong rest item', { ...good, pair: ['first', 'X'] }, 'pair[1]: must be lowercase letters'],
    ['a tuple too long', { ...good, pair: ['first', 'a', 'b', 'c'] }, 'pair: must have at most 3 items'],
    ['a failed refinement', { ...good, kind: 'b' }, 'flag: is required when kind is b'],
  ])('reject %s, naming the path', (_what, value, detail) => {
    expect(problem(doc, value)).toBe(detail);
  });

  it('report the first problem in member order, and refine only what passed every other check', () => {
    expect(problem(doc, { kind: 'b', name: 3, items: 'no', extra: 1 })).toBe('name: must be a string');
    expect(problem(doc, { kind: 'b', name: 'ab', items: [{ id: 1 }], extra: 1 })).toBe('extra: is not allowed here');
  });

  it('count a member whose value is undefined as absent', () => {
    expect(problem(doc, { ...good, flag: undefined })).toBeNull();
    expect(problem(doc, { ...good, name: undefined })).toBe('name: is required');
  });

  it('take a missing-member message from `missing`', () => {
    const s = v.object({ reason: v.missing(name, 'is required for revocations') });
    expect(problem(s, {})).toBe('reason: is required for revocations');
    expect(problem(s, { reason: 1 })).toBe('reason: must be a string');
  });

  it('run a string test after the pattern', () => {
    const even = v.string({ pattern: [/^\d+$/, 'must be digits'], test: [(t) => Number(t) % 2 === 0, 'must be even'] });
    expect(problem(even, 'x')).toBe('(document): must be digits');
    expect(problem(even, '3')).toBe('(document): must be even');
    expect(problem(even, '4')).toBeNull();
  });

  it('choose a discriminated union option by its literal member, then refine the whole', () => {
    const union = v.discriminatedUnion(
      'kind',
      [v.object({ kind: v.literal('one'), a: v.int() }), v.object({ kind: v.literal('two'), b: v.boolean() })],
      (u) => ('a' in u && u.a < 0 ? new Invalid(['a'], 'must not be negative') : null),
    );
    expect(v.parse(union, { b: true, kind: 'two' })).toEqual({ kind: 'two', b: true });
    expect(problem(union, { kind: 'one', a: 1, b: true })).toBe('b: is not allowed here');
    expect(problem(union, { kind: 'three' })).toBe('kind: must be one of "one", "two"');
    expect(problem(union, { a: 1 })).toBe('kind: must be one of "one", "two"');
    expect(problem(union, 'one')).toBe('(document): must be an object');
    expect(problem(union, { kind: 'one', a: -1 })).toBe('a: must not be negative');
  });

  it('refuse a union option without a literal discriminator when built', () => {
    expect(() => v.discriminatedUnion('kind', [v.object({ kind: v.string() })])).toThrow(/literal kind/);
  });

  it('keep their definitions as data for the documentation', () => {
    expect(name.def).toMatchObject({ kind: 'string', minLength: 1, maxLength: 5 });
    expect(item.def.kind).toBe('object');
    expect(doc.def.kind === 'object' && Object.keys(doc.def.shape)).toEqual(['kind', 'name', 'items', 'flag', 'pair']);
  });

  it('render paths as member names and indices', () => {
    expect(formatPath([])).toBe('(document)');
    expect(formatPath(['credentialSubject', 'models', 0, 'digest'])).toBe('credentialSubject.models[0].digest');
    expect(formatPath(['@context', 1])).toBe('@context[1]');
  });
});
