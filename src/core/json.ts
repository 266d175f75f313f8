// The strict JSON parser that every signed, hashed or posted document goes through.
//
// Grammar: RFC 8259 exactly (§2 whitespace and structure, §4 objects, §5 arrays, §6 numbers, §7 strings).
// On top of it, the I-JSON profile (RFC 7493 §2) that RFC 8785 §3.1 requires of canonicalized input:
// no duplicate member names, no lone surrogates, no numbers outside IEEE 754 double range, and (DESIGN §Formats)
// no integers beyond ±(2^53 − 1). Containers are parsed with an explicit stack, not recursion, so no input can
// overflow the call stack; the depth limit is checked before a container is opened.
import { fromUtf8 } from './bytes.js';
import { RegistryError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export interface JsonParseOptions {
  /** Most containers that may be open at once; `[[]]` has depth 2. Default 64. */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 64;

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses UTF-8 JSON bytes: malformed UTF-8 and a byte order mark are rejected (RFC 8259 §8.1). */
export function parseJsonBytes(bytes: Uint8Array, opts?: JsonParseOptions): JsonValue {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new RegistryError('bad-json', 'byte order mark at offset 0');
  }
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw new RegistryError('bad-json', 'malformed UTF-8');
  }
  return parseJsonStrict(text, opts);
}

/** Parses one JSON text; throws RegistryError('bad-json') naming the offending offset. */
export function parseJsonStrict(text: string, opts?: JsonParseOptions): JsonValue {
  return new Parser(text, opts?.maxDepth ?? DEFAULT_MAX_DEPTH).parseText();
}

type Frame = { items: JsonValue[] } | { members: JsonObject; key: string };

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// ES2024 String.prototype.isWellFormed (Node 20, workerd, current browsers): the same test, natively, about 6x faster
// than the pattern on the short strings of a certificate; older browsers keep the pattern.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** isWellFormedString where the runtime lacks String.prototype.isWellFormed. */
export function isWellFormedByPattern(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** True when `text` is well-formed UTF-16, i.e. has a UTF-8 encoding (RFC 7493 §2.1). */
export const isWellFormedString: (text: string) => boolean = nativeIsWellFormed
  ? (text) => nativeIsWellFormed.call(text)
  : isWellFormedByPattern;
// RFC 8259 §6: -? int frac? exp?, with int = 0 / [1-9] DIGIT*.
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parseText(): JsonValue {
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail('unexpected data after the JSON value');
    return value;
  }

  /** Parses one value; containers keep their state on `stack` rather than on the call stack. */
  private parseValue(): JsonValue {
    const stack: Frame[] = [];
    for (;;) {
      let value: JsonValue;
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === '[' || c === '{') {
        if (stack.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
        this.pos++;
        this.skipWhitespace();
        if (c === '[') {
          if (this.text[this.pos] !== ']') {
            stack.push({ items: [] });
            continue;
          }
          this.pos++;
          value = [];
        } else {
          if (this.text[this.pos] !== '}') {
            const members: JsonObject = {};
            stack.push({ members, key: this.parseMemberName(members) });
            continue;
          }
          this.pos++;
          value = {};
        }
      } else {
        value = this.parseScalar();
      }

      // Hand the finished value to the enclosing containers, closing each one that ends here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) return value;
        this.skipWhitespace();
        const next = this.text[this.pos];
        if ('items' in top) {
          top.items.push(value);
          if (next === ',') {
            this.pos++;
            break;
          }
          if (next !== ']') this.fail("expected ',' or ']'");
          value = top.items;
        } else {
          setMember(top.members, top.key, value);
          if (next === ',') {
            this.pos++;
            this.skipWhitespace();
            top.key = this.parseMemberName(top.members);
            break;
          }
          if (next !== '}') this.fail("expected ',' or '}'");
          value = top.members;
        }
        this.pos++;
        stack.pop();
      }
    }
  }

  /** Reads `"name" :` and rejects a name the object already has (RFC 7493 §2.3). */
  private parseMemberName(members: JsonObject): string {
    const start = this.pos;
    if (this.text[this.pos] !== '"') this.fail('expected a member name');
    const key = this.parseString();
    if (Object.hasOwn(members, key)) this.fail(`duplicate member name ${JSON.stringify(key)}`, start);
    this.skipWhitespace();
    if (this.text[this.pos] !== ':') this.fail("expected ':'");
    this.pos++;
    return key;
  }

  private parseScalar(): JsonValue {
    const c = this.text[this.pos];
    if (c === '"') return this.parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
    for (const [literal, value] of LITERALS) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return value;
      }
    }
    return this.fail(c === undefined ? 'unexpected end of input' : 'unexpected character');
  }

  /** RFC 8259 §6; the value must be finite and, for an integer literal, a safe integer. */
  private parseNumber(): number {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail('malformed number');
    this.pos = NUMBER.lastIndex;
    const value = Number(match[0]);
    if (!Number.isFinite(value)) this.fail('number out of range', start);
    const isInteger = match[1] === undefined && match[2] === undefined;
    if (isInteger && !Number.isSafeInteger(value)) this.fail('integer beyond ±(2^53 - 1)', start);
    return value;
  }

  /** RFC 8259 §7; the decoded string must be well-formed UTF-16 (RFC 7493 §2.1). */
  private parseString(): string {
    const start = this.pos;
    const text = this.text;
    let out = '';
    let i = start + 1;
    let runStart = i;
    for (;;) {
      const code = text.charCodeAt(i);
      if (Number.isNaN(code)) this.fail('unterminated string', start);
      if (code === 0x22 /* " */) break;
      if (code < 0x20) this.fail('control character in string', i);
      if (code !== 0x5c /* \ */) {
        i++;
        continue;
      }
      out += text.slice(runStart, i);
      const escape = text[i + 1];
      if (escape === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('malformed \\u escape', i);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        const decoded = escape === undefined ? undefined : ESCAPES[escape];
        if (decoded === undefined) this.fail('invalid escape', i);
        out += decoded;
        i += 2;
      }
      runStart = i;
    }
    out += text.slice(runStart, i);
    if (!isWellFormedString(out)) this.fail('lone surrogate in string', start);
    this.pos = i + 1;
    return out;
  }

  /** RFC 8259 §2: space, tab, line feed, carriage return. */
  private skipWhitespace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  private fail(message: string, at = this.pos): never {
    throw new RegistryError('bad-json', `${message} at offset ${at}`);
  }
}

const LITERALS: ReadonlyArray<readonly [string, JsonValue]> = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/** Adds an own data property, also for "__proto__", which plain assignment would turn into a prototype change. */
function setMember(members: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(members, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    members[key] = value;
  }
}
