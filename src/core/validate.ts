// Validators for JSON documents: the few shapes Certrail's signed documents are made of (strings with bounds and a
// pattern, literals, enums, integers, booleans, arrays, tuples, closed objects, unions on a discriminator member).
// Hand-written instead of a schema library because the verify page bundles them (a few KB against zod/mini's 32 KB)
// and the offline verifier runs them on every entry of every bundle.
//
// Semantics. `parse` either returns a copy of the value rebuilt in schema order (object members in the order the
// shape lists them, absent optional members left absent), or throws for the first problem met, depth first in member
// order: a member's own problems, then members the shape does not know (objects are closed), then the object's
// refinements, which therefore see only values that passed every other check. An array's length is checked before
// its items (a hostile array is refused before any item is looked at); a tuple's items before its length. A member
// whose value is `undefined` counts as absent. A problem is reported as
// RegistryError('bad-request', '<path>: <message>'), the path like `credentialSubject.models[0].digest`.
//
// Each validator keeps its definition (`def`) as data, so the documentation (JSON Schema, OpenAPI) is generated from
// the same definitions that validate (src/http/document-schemas.ts); refinements are code and are not exported.
import { RegistryError } from './errors.js';

/** The first problem found: where (member names and array indices, outermost first) and what. */
export class Invalid {
  constructor(
    readonly path: Array<string | number>,
    readonly message: string,
  ) {}
}

/** JSON Schema keywords for the documentation that a definition's own fields do not imply. */
export type JsonSchemaExtra = Readonly<Record<string, unknown>>;

export type Def =
  | { kind: 'string'; minLength?: number; maxLength?: number; pattern?: RegExp; extra?: JsonSchemaExtra }
  | { kind: 'literal'; value: string }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int'; minimum: number; maximum: number }
  | { kind: 'boolean' }
  | { kind: 'array'; items: Schema<unknown>; minItems?: number; maxItems?: number; extra?: JsonSchemaExtra }
  | { kind: 'tuple'; prefixItems: ReadonlyArray<Schema<unknown>>; items: Schema<unknown>; extra?: JsonSchemaExtra }
  | { kind: 'object'; shape: Shape }
  | { kind: 'union'; discriminator: string; options: ReadonlyArray<Schema<unknown>> };

export interface Schema<T> {
  readonly def: Def;
  /** The message when this schema is an object member and the member is absent (default `is required`). */
  readonly missing?: string;
  /** The value rebuilt in schema order, or the first problem (paths relative to this value). Never throws. */
  run(value: unknown): T | Invalid;
}

/** An object member that may be absent. */
export interface Optional<T> {
  readonly optional: Schema<T>;
}

export type Shape = Readonly<Record<string, Schema<unknown> | Optional<unknown>>>;
export type Infer<S> = S extends Schema<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in keyof S as S[K] extends Optional<unknown> ? never : K]: S[K] extends Schema<infer T> ? T : never } & {
    [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: S[K] extends Optional<infer T> ? T : never;
  }
>;

/** A refinement: a problem with the whole (already valid) value, or null. */
export type Refinement<T> = (value: T) => Invalid | null;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Prefixes a child's problem with its member name or index (paths are built only on failure). */
function within(key: string | number, problem: Invalid): Invalid {
  problem.path.unshift(key);
  return problem;
}

const fail = (message: string): Invalid => new Invalid([], message);
const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------------------------------------------
// Scalars

export interface StringOptions {
  minLength?: number;
  maxLength?: number;
  /** The whole string must match; `message` when it does not. */
  pattern?: readonly [RegExp, string];
  /** Checked after the pattern; `message` when it returns false. */
  test?: readonly [(text: string) => boolean, string];
  extra?: JsonSchemaExtra;
}

/** A string of at most `maxLength` and at least `minLength` UTF-16 code units, matching `pattern`, passing `test`. */
export function string(options: StringOptions = {}): Schema<string> {
  const { minLength, maxLength, pattern, test, extra } = options;
  return {
    def: { kind: 'string', minLength, maxLength, pattern: pattern?.[0], extra },
    run(value) {
      if (typeof value !== 'string') return fail('must be a string');
      if (minLength !== undefined && value.length < minLength) {
        return fail(minLength === 1 ? 'must not be empty' : `must have at least ${plural(minLength, 'character')}`);
      }
      if (maxLength !== undefined && value.length > maxLength) return fail(`must have at most ${plural(maxLength, 'character')}`);
      if (pattern !== undefined && !pattern[0].test(value)) return fail(pattern[1]);
      if (test !== undefined && !test[0](value)) return fail(test[1]);
      return value;
    },
  };
}

export function literal<const T extends string>(expected: T): Schema<T> {
  return {
    def: { kind: 'literal', value: expected },
    run: (value) => (value === expected ? expected : fail(`must be ${JSON.stringify(expected)}`)),
  };
}

export function enumOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const message = `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return {
    def: { kind: 'enum', values },
    run: (value) => (typeof value === 'string' && values.includes(value) ? (value as T[number]) : fail(message)),
  };
}

/** A safe integer in [minimum, maximum]. */
export function int(minimum = Number.MIN_SAFE_INTEGER, maximum = Number.MAX_SAFE_INTEGER): Schema<number> {
  return {
    def: { kind: 'int', minimum, maximum },
    run(value) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return fail('must be an integer');
      if (value < minimum) return fail(`must be at least ${minimum}`);
      if (value > maximum) return fail(`must be at most ${maximum}`);
      return value;
    },
  };
}

export function boolean(): Schema<boolean> {
  return { def: { kind: 'boolean' }, run: (value) => (typeof value === 'boolean' ? value : fail('must be true or false')) };
}

// ---------------------------------------------------------------------------------------------------------------
// Arrays

export interface ArrayOptions<T> {
  minItems?: number;
  maxItems?: number;
  refine?: Refinement<T[]>;
  extra?: JsonSchemaExtra;
}

function runItems<T>(items: readonly unknown[], schemaAt: (i: number) => Schema<T>): T[] | Invalid {
  const out = new Array<T>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = schemaAt(i).run(items[i]);
    if (item instanceof Invalid) return within(i, item);
    out[i] = item;
  }
  return out;
}

/** An array of `minItems` to `maxItems` items, each valid for `items`, then `refine` on the whole. */
export function array<T>(items: Schema<T>, options: ArrayOptions<T> = {}): Schema<T[]> {
  const { minItems, maxItems, refine, extra } = options;
  return {
    def: { kind: 'array', items, minItems, maxItems, extra },
    run(value) {
      if (!Array.isArray(value)) return fail('must be an array');
      if (minItems !== undefined && value.length < minItems) return fail(`must have at least ${plural(minItems, 'item')}`);
      if (maxItems !== undefined && value.length > maxItems) return fail(`must have at most ${plural(maxItems, 'item')}`);
      const out = runItems(value, () => items);
      if (out instanceof Invalid || refine === undefined) return out;
      return refine(out) ?? out;
    },
  };
}

/** An array whose first items are valid for `prefixItems` (all required) and the rest for `items`; at most `maxItems`. */
export function tuple<P extends readonly [Schema<unknown>, ...Array<Schema<unknown>>], R>(
  prefixItems: P,
  items: Schema<R>,
  options: { maxItems: number },
): Schema<[...{ [K in keyof P]: Infer<P[K]> }, ...R[]]> {
  const { maxItems } = options;
  type Out = [...{ [K in keyof P]: Infer<P[K]> }, ...R[]];
  return {
    def: { kind: 'tuple', prefixItems, items, extra: { maxItems } },
    run(value) {
      if (!Array.isArray(value)) return fail('must be an array');
      if (value.length < prefixItems.length) return fail(`must have at least ${plural(prefixItems.length, 'item')}`);
      const out = runItems(value, (i) => (i < prefixItems.length ? prefixItems[i]! : items));
      if (out instanceof Invalid) return out;
      return out.length > maxItems ? fail(`must have at most ${plural(maxItems, 'item')}`) : (out as Out);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Objects

export function optional<T>(schema: Schema<T>): Optional<T> {
  return { optional: schema };
}

/** `schema` with `message` for when it is a required object member and the member is absent. */
export function missing<T>(schema: Schema<T>, message: string): Schema<T> {
  return { ...schema, missing: message };
}

/**
 * A closed object: every member of `shape` (present unless optional) and no other; then `refine` on the whole. The
 * result lists the members in shape order.
 */
export function object<S extends Shape>(shape: S, refine?: Refinement<ObjectOf<S>>): Schema<ObjectOf<S>> {
  const members = Object.entries(shape).map(([key, member]) =>
    'optional' in member ? { key, schema: member.optional, required: false } : { key, schema: member, required: true },
  );
  return {
    def: { kind: 'object', shape },
    run(value) {
      if (!isRecord(value)) return fail('must be an object');
      const out: Record<string, unknown> = {};
      for (const { key, schema, required } of members) {
        const given = Object.hasOwn(value, key) ? value[key] : undefined;
        if (given === undefined) {
          if (required) return within(key, fail(schema.missing ?? 'is required'));
          continue;
        }
        const member = schema.run(given);
        if (member instanceof Invalid) return within(key, member);
        out[key] = member;
      }
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) return within(key, fail('is not allowed here'));
      }
      const result = out as ObjectOf<S>;
      return refine === undefined ? result : refine(result) ?? result;
    },
  };
}

/** One of `options` (objects), chosen by the literal value of their `discriminator` member. */
export function discriminatedUnion<const O extends ReadonlyArray<Schema<unknown>>>(
  discriminator: string,
  options: O,
  refine?: Refinement<Infer<O[number]>>,
): Schema<Infer<O[number]>> {
  const byValue = new Map<unknown, Schema<unknown>>();
  for (const option of options) {
    const member = option.def.kind === 'object' ? option.def.shape[discriminator] : undefined;
    if (member === undefined || 'optional' in member || member.def.kind !== 'literal') {
      throw new Error(`every option must have a literal ${discriminator} member`);
    }
    byValue.set(member.def.value, option);
  }
  const message = `must be one of ${[...byValue.keys()].map((v) => JSON.stringify(v)).join(', ')}`;
  return {
    def: { kind: 'union', discriminator, options },
    run(value) {
      if (!isRecord(value)) return fail('must be an object');
      const option = byValue.get(Object.hasOwn(value, discriminator) ? value[discriminator] : undefined);
      if (option === undefined) return within(discriminator, fail(message));
      const out = option.run(value) as Infer<O[number]> | Invalid;
      if (out instanceof Invalid || refine === undefined) return out;
      return refine(out) ?? out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** Renders a path as `credentialSubject.models[0].digest`; the root is `(document)`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out === '' ? '(document)' : out;
}

/** Validates `value` against `schema`; throws RegistryError('bad-request', '<path>: <message>') for the first problem. */
export function parse<T>(schema: Schema<T>, value: unknown): T {
  const result = schema.run(value);
  if (result instanceof Invalid) throw new RegistryError('bad-request', `${formatPath(result.path)}: ${result.message}`);
  return result;
}
