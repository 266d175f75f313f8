// RFC 8785 JSON Canonicalization Scheme: the one serialization of every signed or hashed JSON value.
import { utf8 } from './bytes.js';
import { RegistryError } from './errors.js';
import { isWellFormedString, type JsonValue } from './json.js';

/**
 * The canonical texts of the objects and arrays a caller has already canonicalized, for one that canonicalizes
 * overlapping values (a credential checked for its signature without its proof, then logged with it inside its
 * entry). Sound only while none of those values is modified: make one per request, never keep it.
 */
export type CanonicalMemo = WeakMap<object, string>;

/** The canonical JSON text of `value` (RFC 8785 §3.2: no whitespace, sorted members, canonical primitives). */
export function canonicalize(value: JsonValue, memo?: CanonicalMemo): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'; // §3.2.2.1
    case 'number':
      return serializeNumber(value);
    case 'string':
      return serializeString(value);
    case 'object': {
      const known = memo?.get(value);
      if (known !== undefined) return known;
      const text = Array.isArray(value) ? canonicalArray(value, memo) : canonicalObject(value, memo);
      memo?.set(value, text);
      return text;
    }
    default:
      throw new RegistryError('bad-json', `a ${typeof value} is not a JSON value`);
  }
}

function canonicalArray(value: readonly JsonValue[], memo: CanonicalMemo | undefined): string {
  let out = '[';
  for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalize(value[i]!, memo);
  return `${out}]`;
}

function canonicalObject(value: { [k: string]: JsonValue }, memo: CanonicalMemo | undefined): string {
  // §3.2.3: members sorted by their names as arrays of UTF-16 code units, which is what the default
  // Array.prototype.sort compares (no comparator: it orders strings by code units).
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    out += `${i === 0 ? '' : ','}${serializeString(key)}:${canonicalize(memberValue(value, key), memo)}`;
  }
  return `${out}}`;
}

/** The UTF-8 bytes of the canonical text (RFC 8785 §3.2.4), the input to every hash and signature. */
export function canonicalBytes(value: JsonValue, memo?: CanonicalMemo): Uint8Array {
  return utf8(canonicalize(value, memo));
}

function memberValue(object: { [k: string]: JsonValue }, key: string): JsonValue {
  const value = object[key];
  if (value === undefined) throw new RegistryError('bad-json', `member ${JSON.stringify(key)} is undefined`);
  return value;
}

/**
 * §3.2.2.3: ECMAScript Number.prototype.toString, which `String` applies (it also prints −0 as "0").
 * NaN and ±Infinity have no JSON form (§3.1, I-JSON).
 */
function serializeNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RegistryError('bad-json', `${value} is not a JSON number`);
  return String(value);
}

const MUST_ESCAPE = /["\\\u0000-\u001f]/g;
/** What takes the slow path: a character to escape, or any surrogate (which may be a lone one). */
const ESCAPE_OR_SURROGATE = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
};

/**
 * §3.2.2.2: only '"', '\' and U+0000..U+001F are escaped; the two-character forms where JSON has them, otherwise
 * \u00XX in lowercase hex. Every other code point is written as itself. Lone surrogates cannot be (§3.1). Most
 * strings hold none of these, and are written as they are after one scan.
 */
function serializeString(value: string): string {
  if (!ESCAPE_OR_SURROGATE.test(value)) return `"${value}"`;
  if (!isWellFormedString(value)) throw new RegistryError('bad-json', 'lone surrogate in string');
  const escaped = value.replace(
    MUST_ESCAPE,
    (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"`;
}
