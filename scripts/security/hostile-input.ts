// Hostile input corpus against a real `certrail serve` process on loopback. Every write endpoint is taken from the
// served /openapi.json, so a new one is covered without changing this program. It sends:
//
// - json-suite: every JSONTestSuite parsing file (../shared/vectors/json/test_parsing) to every write endpoint, with a
//   valid token of the right principal (so the body is what gets judged); n_ files must be refused as 400 or 413;
// - nesting: arrays, objects and unclosed arrays 100,000 deep to every write endpoint (400 or 413);
// - big-bodies: 64 MiB to every write endpoint, streamed chunked and with a declared Content-Length, while a control
//   client polls /healthz: the server must answer 413 before the stream ends and stay responsive;
// - log-reads: huge, negative, fractional and non-numeric sizes in consistency proofs, tile paths (C2SP tlog-tiles,
//   with x-prefixed elements, partial .p/ widths, levels out of range): all 4xx;
// - traversal: ../, %2e%2e%2f, encoded NULs, backslashes, overlong UTF-8 in every path parameter of every operation;
// - sql: SQL metacharacters in every string field of every request body (signed documents re-signed, so they reach
//   the store) and in every search parameter; an accepted certificate must read back byte for byte;
// - unicode: certificate numbers in NFC/NFD, with zero-width characters, RTL overrides, lone surrogates (escaped in
//   JSON), homoglyphs and overlong strings, in bodies and URLs; a look-alike never resolves to the genuine one.
//
// Every answer must be a 2xx or 4xx (0 responses with 5xx), every 4xx an RFC 9457 problem with a code, and no body
// may contain a stack trace, SQL or a file path (harness.ts LEAK); the server must log no unexpected error.
//
//   npx tsx scripts/security/hostile-input.ts [--short] [--json]
//
// --short runs a sample of each category (a few hundred requests, for test/scripts/hostile-input.test.ts).
// Prints one summary line; exits 1 on any violation.
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { canonicalize } from '../../src/core/jcs.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { newCbKey, operatorKey, registerCb, signAs, type CbKey } from '../../test/support/client.js';
import {
  answerViolation,
  currentCertificate,
  fillPath,
  pool,
  send,
  sendStreamed,
  startRegistryProcess,
  writeOperations,
  type Raw,
  type RegistryProcess,
  type Target,
  type WriteOperation,
} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** JSONTestSuite's parsing vectors, read in place. */
export const JSON_TEST_SUITE = join(ROOT, '..', 'shared', 'vectors', 'json', 'test_parsing');
const MIB = 1024 * 1024;
const YEAR = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The JSONTestSuite parsing files (name and bytes), every `step`-th one for a sample. */
export function jsonTestSuite(step = 1): Array<{ file: string; bytes: Uint8Array }> {
  return readdirSync(JSON_TEST_SUITE)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .filter((_, i) => i % step === 0)
    .map((file) => ({ file, bytes: readFileSync(join(JSON_TEST_SUITE, file)) }));
}

/** What the programs act with: a CB with a logged certificate, a spare key of it, and the operator. */
export interface Fixture {
  target: Target;
  cb: CbKey;
  operator: TokenKey;
  /** A logged certificate number of `cb`. */
  number: string;
  /** A key of `cb` that the corpus may aim revocations at. */
  spareKeyId: string;
}

/** The principal whose valid token a write operation needs, by its OpenAPI security scheme (null: none). */
export function principalFor(fixture: Fixture, op: WriteOperation): TokenKey | undefined {
  if (op.scheme === null) return undefined;
  if (op.scheme === 'certificationBody') return fixture.cb;
  if (op.scheme === 'operator') return fixture.operator;
  throw new Error(`${op.operationId}: unknown security scheme ${op.scheme}`);
}

/** The path of a write operation on the fixture's own objects. */
export function pathFor(fixture: Fixture, op: WriteOperation): string {
  return fillPath(op.path, { issuer: fixture.cb.issuer, number: fixture.number, keyId: fixture.spareKeyId });
}

export interface Finding {
  category: string;
  label: string;
  detail: string;
}

export interface HostileSummary {
  requests: number;
  byCategory: Record<string, number>;
  statuses: Record<string, number>;
  serverErrors: number;
  leaks: number;
  violations: Finding[];
  /** The slowest /healthz answer while 64 MiB bodies were being offered (ms). */
  maxHealthMs: number;
  /** The most bytes a client had written before a 64 MiB body was refused. */
  maxBytesBeforeRefusal: number;
  /** Growth of the server's resident memory over the run (MiB). */
  rssGrowthMb: number;
  unexpectedServerErrors: number;
  elapsedMs: number;
}

/** Sets up the fixture on a fresh registry: CB hostile-cert (managed signing on), one certificate, a spare key. */
export async function createFixture(target: Target): Promise<Fixture> {
  const cb = await newCbKey('hostile-cert');
  const spare = await newCbKey('hostile-cert', 'spare-key');
  const operator = operatorKey(target);
  const registered = await registerCb(target, 'hostile-cert', [cb, spare], true);
  if (registered.status !== 201) throw new Error(`registering hostile-cert: ${registered.status} ${JSON.stringify(registered.body)}`);
  const fixture: Fixture = { target, cb, operator, number: 'HX-2026-0001', spareKeyId: spare.keyId };
  const issued = await send(target, 'POST', '/api/v1/certificates', { key: cb, body: JSON.stringify(await certificate(fixture, fixture.number)) });
  if (issued.status !== 201) throw new Error(`issuing ${fixture.number}: ${issued.status} ${issued.text}`);
  return fixture;
}

/** A signed, currently valid certificate of the fixture's CB. */
export function certificate(fixture: Fixture, number: string): Promise<JsonObject> {
  return currentCertificate(fixture.target, fixture.cb, fixture.cb.issuer, number);
}

class Recorder {
  readonly summary: HostileSummary = {
    requests: 0,
    byCategory: {},
    statuses: {},
    serverErrors: 0,
    leaks: 0,
    violations: [],
    maxHealthMs: 0,
    maxBytesBeforeRefusal: 0,
    rssGrowthMb: 0,
    unexpectedServerErrors: 0,
    elapsedMs: 0,
  };

  /** Counts an answer; records a violation if it is unsafe or `expect` names one. */
  check(category: string, label: string, res: Raw, expect?: (res: Raw) => string | null): void {
    const s = this.summary;
    s.requests++;
    s.byCategory[category] = (s.byCategory[category] ?? 0) + 1;
    s.statuses[res.status] = (s.statuses[res.status] ?? 0) + 1;
    if (res.status >= 500) s.serverErrors++;
    const unsafe = answerViolation(res);
    if (unsafe?.startsWith('leak')) s.leaks++;
    const detail = unsafe ?? expect?.(res) ?? null;
    if (detail !== null) s.violations.push({ category, label, detail: `${detail} (${res.status} ${res.text.slice(0, 160)})` });
  }

  fail(category: string, label: string, detail: string): void {
    this.summary.violations.push({ category, label, detail });
  }
}

const statusIn = (...allowed: number[]) => (res: Raw) => (allowed.includes(res.status) ? null : `expected ${allowed.join(' or ')}`);
const refused = (res: Raw) => (res.status >= 400 ? null : 'accepted hostile input');

// --- categories ------------------------------------------------------------------------------------------------

async function jsonSuite(fx: Fixture, ops: WriteOperation[], rec: Recorder, short: boolean): Promise<void> {
  const files = jsonTestSuite(short ? 8 : 1);
  const tasks = files.flatMap(({ file, bytes }) =>
    ops.map((op) => async () => {
      const res = await send(fx.target, op.method, pathFor(fx, op), { key: principalFor(fx, op), body: bytes });
      rec.check('json-suite', `${file} → ${op.operationId}`, res, (r) => {
        if (r.status === 401 || r.status === 403) return 'refused the valid token';
        return file.startsWith('n_') ? statusIn(400, 413)(r) : null;
      });
    }),
  );
  await pool(tasks, 16);
}

async function nesting(fx: Fixture, ops: WriteOperation[], rec: Recorder): Promise<void> {
  const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
  const bodies: Array<[string, string]> = [
    ['arrays 100,000 deep', deep(100_000, '[', ']')],
    ['objects 100,000 deep', deep(100_000, '{"a":', '}')],
    ['items 100,000 deep', `{"items":${deep(100_000, '[', ']')}}`],
    ['unclosed 100,000 deep', '['.repeat(100_000)],
    ['arrays 30,000 deep (under 64 KiB)', deep(30_000, '[', ']')],
  ];
  for (const op of ops) {
    for (const [label, body] of bodies) {
      rec.check('nesting', `${label} → ${op.operationId}`, await send(fx.target, op.method, pathFor(fx, op), { key: principalFor(fx, op), body }), statusIn(400, 413));
    }
  }
}

/** 64 MiB offered in 64 KiB blocks: a JSON object whose one string never ends. */
function* sixtyFourMiB(): Generator<string> {
  yield '{"pad":"';
  const block = 'y'.repeat(64 * 1024);
  for (let i = 0; i < 1024; i++) yield block;
}

async function bigBodies(fx: Fixture, ops: WriteOperation[], rec: Recorder, server: RegistryProcess | null): Promise<void> {
  const rss0 = server?.rssKb() ?? 0;
  let maxRss = rss0;
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t0 = performance.now();
      const res = await send(fx.target, 'GET', '/healthz');
      const ms = performance.now() - t0;
      rec.summary.maxHealthMs = Math.max(rec.summary.maxHealthMs, ms);
      rec.check('big-bodies', 'healthz while streaming', res, statusIn(200));
      if (server) maxRss = Math.max(maxRss, server.rssKb());
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    for (const op of ops) {
      for (const declared of [false, true]) {
        const label = `64 MiB ${declared ? 'with Content-Length' : 'chunked'} → ${op.operationId}`;
        const res = await sendStreamed(fx.target, pathFor(fx, op), sixtyFourMiB(), {
          key: principalFor(fx, op),
          ...(declared ? { declaredLength: 64 * MIB + 8 } : {}),
        });
        rec.summary.maxBytesBeforeRefusal = Math.max(rec.summary.maxBytesBeforeRefusal, res.bytesSent);
        rec.check('big-bodies', label, res, (r) =>
          r.status !== 413 ? 'expected 413' : res.bytesSent >= 64 * MIB ? 'answered only after the whole body was sent' : null,
        );
      }
    }
  } finally {
    probing = false;
    await probe;
  }
  rec.summary.rssGrowthMb = Math.round(((maxRss - rss0) / 1024) * 10) / 10;
}

/** Log reads with hostile sizes and tile paths (C2SP tlog-tiles: /tile/{L}/{N}[.p/{W}], /tile/entries/{N}[.p/{W}]). */
export const HOSTILE_LOG_READS: readonly string[] = [
  ...[
    ['-1', '1'], ['1', '-1'], ['0', '9007199254740992'], ['0', '9007199254740991'], ['9007199254740991', '9007199254740991'],
    ['0', '18446744073709551616'], ['0', '1e3'], ['0', '1.5'], ['0', '0x10'], ['0', '01'], ['0', '+1'], ['0', ' 1'], ['a', 'b'],
    ['', ''], ['0', 'NaN'], ['0', 'Infinity'], ['5', '2'], ['0', '1' + '0'.repeat(400)], ['0', '%00'], ['0', '1%00'],
  ].map(([from, to]) => `/log/proof/consistency?from=${from}&to=${to}`),
  '/log/proof/consistency', '/log/proof/consistency?from=0', '/log/proof/consistency?to=1&to=2&from=0&from=-1',
  '/log/proof/inclusion?index=-1&size=1', '/log/proof/inclusion?index=9007199254740992&size=1',
  '/log/tile/0/999', '/log/tile/0/x999/x999/x999/x999/x999/999', '/log/tile/0/x001/000', '/log/tile/0/x000/000',
  '/log/tile/0/000.p/0', '/log/tile/0/000.p/256', '/log/tile/0/000.p/-1', '/log/tile/0/000.p/abc', '/log/tile/0/000.p/',
  '/log/tile/0/000.p/1/2', '/log/tile/0/000.p/01', '/log/tile/0/000.p/255', '/log/tile/0/0', '/log/tile/0/0000',
  '/log/tile/0/-01', '/log/tile/0/1e3', '/log/tile/0/%30%30%30', '/log/tile/0/x1/000', '/log/tile/0/xabc/000',
  '/log/tile/-1/000', '/log/tile/6/000', '/log/tile/63/000', '/log/tile/64/000', '/log/tile/256/000',
  '/log/tile/99999999999999999999/000', '/log/tile/0x1/000', '/log/tile/ 0/000', '/log/tile/0', '/log/tile/',
  '/log/tile/entries/999', '/log/tile/entries/x999/999', '/log/tile/entries/000.p/0', '/log/tile/entries/000.p/256',
  '/log/tile/entries/-1', '/log/tile/entries/000.p/99999999999999999999', '/log/tile/entries/', '/log/tile/entries/../../000',
  '/log/tile/0/' + 'x000/'.repeat(2000) + '000', '/log/tile/0/000.p/' + '9'.repeat(5000),
  '/api/v1/certificates?limit=-1', '/api/v1/certificates?limit=9007199254740992', '/api/v1/certificates?limit=1e2',
  '/api/v1/certificates?limit=0', '/api/v1/certificates?cursor=-1', '/api/v1/certificates?cursor=' + 'A'.repeat(4000),
  '/api/v1/certificates?cursor=%00', '/api/v1/certificates?status=active%00',
];

async function logReads(fx: Fixture, rec: Recorder, short: boolean): Promise<void> {
  const paths = short ? HOSTILE_LOG_READS.filter((_, i) => i % 3 === 0) : HOSTILE_LOG_READS;
  for (const path of paths) rec.check('log-reads', path, await send(fx.target, 'GET', path), refused);
}

/** Hostile path parameter values, as they appear in the raw request line. */
export const HOSTILE_IDS: readonly string[] = [
  '..', '../..', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%2e%2e', '%2E%2E%2F', '..%5c..%5cwindows',
  '..%255c', '%252e%252e%252f', '%00', 'x%00', 'HX-2026-0001%00', '%2500', '%c0%ae%c0%ae%c0%af', '%e0%80%ae%e0%80%ae',
  '....%2f%2f', '..;', '.', '%2e', '~', '%5c', 'a%5cb', '%0d%0aSet-Cookie:x=1', '%ff', '%', '%zz',
];

async function traversal(fx: Fixture, rec: Recorder, short: boolean): Promise<void> {
  const doc = (await (await fetch(`${fx.target.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const values: Record<string, string> = { issuer: fx.cb.issuer, number: fx.number, keyId: fx.spareKeyId, digest: `sha256:${'0'.repeat(64)}`, L: '0', N: '000' };
  const ids = short ? HOSTILE_IDS.filter((_, i) => i % 4 === 0) : HOSTILE_IDS;
  for (const [template, operations] of Object.entries(doc.paths)) {
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const [method, op] of Object.entries(operations)) {
      const scheme = op.security?.flatMap((requirement) => Object.keys(requirement as object))[0];
      const key = scheme === 'operator' ? fx.operator : scheme === undefined ? undefined : fx.cb;
      for (const name of names) {
        for (const id of ids) {
          const path = fillPath(template, { ...values, [name]: id });
          const res = await sendRaw(fx.target, method.toUpperCase(), path, key, method === 'get' ? undefined : '{}');
          rec.check('traversal', `${method.toUpperCase()} ${path}`, res, (r) => {
            if (/root:x:0:0|PRIVATE KEY|"seed"/.test(r.text)) return 'served a file or key material';
            // A pure dot segment is resolved by URL parsing (RFC 3986 §5.2.4) into another public route; all else is refused.
            return DOT_SEGMENTS.has(id) ? null : refused(r);
          });
        }
      }
    }
  }
  // Backslashes and dot segments the URL parser of fetch would normalize away, sent raw.
  for (const path of ['/v/hostile-cert/..\\..\\..\\etc\\passwd', '/api/v1/issuers/..\\hostile-cert', '/log/tile/0/..\\..\\000', '/api/v1/certificates/hostile-cert/./HX-2026-0001/../HX-2026-0001']) {
    rec.check('traversal', `raw ${path}`, await sendRaw(fx.target, 'GET', path), (r) => (/root:x:0:0/.test(r.text) ? 'served a file' : null));
  }
}

const DOT_SEGMENTS = new Set(['.', '..', '%2e', '%2e%2e', '../..']);

/** A request whose request line carries `path` exactly as given (fetch would normalize dot segments first). */
async function sendRaw(target: Target, method: string, path: string, key?: TokenKey, body?: string): Promise<Raw> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${await mintToken(key, target.config.baseUrl)}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${target.url}/`, { method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** SQL metacharacters and statement fragments (none of them spells a word the leak check looks for). */
export const SQL_PAYLOADS: readonly string[] = [
  "'", '"', "' OR '1'='1", "1; DROP TABLE entries; --", "') OR ('a'='a", "\\'; --", "%' --", '_%', '`', '/* */',
  "'; PRAGMA writable_schema=1; --", "x' UNION ALL VALUES (1) --", "'||(1)||'", '$1', '?', ':name', '@p', "\u0000'", "';ATTACH DATABASE 'x' AS y;--",
];

/** The paths of every string leaf of a JSON value. */
function stringLeaves(value: JsonValue, path: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (isJsonObject(value)) return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

function withLeaf(value: JsonObject, path: ReadonlyArray<string | number>, leaf: string): JsonObject {
  const copy = structuredClone(value) as Record<string | number, JsonValue>;
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, JsonValue>;
  node[path.at(-1)!] = leaf;
  return copy as JsonObject;
}

/** For each write operation's body schema: template bodies and how to send a mutated one (re-signing if signed). */
type SqlCase = { label: string; path: string; body: JsonObject; key: TokenKey | undefined; readBack?: string };

async function sqlCases(fx: Fixture, ops: WriteOperation[], payloads: readonly string[]): Promise<SqlCase[]> {
  const cases: SqlCase[] = [];
  let serial = 0;
  const fresh = (prefix: string) => `${prefix}-${++serial}`;
  const now = Date.now();
  for (const op of ops) {
    const key = principalFor(fx, op);
    switch (op.bodySchema) {
      case 'CertificateSubmission': {
        // Signed: mutate, then sign, so the document passes the signature check and reaches the store.
        const template = await certificate(fx, 'SQ-TEMPLATE');
        const { proof: _proof, ...unsigned } = template;
        for (const leaf of stringLeaves(unsigned)) {
          for (const payload of payloads) {
            const number = fresh('SQ');
            const doc = withLeaf(exampleCertificateFor(fx, unsigned, number), leaf, payload);
            cases.push({ label: `${op.operationId} ${leaf.join('.')}=${JSON.stringify(payload)}`, path: pathFor(fx, op), body: await signAs(fx.target, fx.cb, doc), key, readBack: number });
          }
        }
        // The proof's own strings, unsigned again: refused as a bad signature or malformed, never SQL.
        for (const leaf of stringLeaves(template.proof as JsonObject)) {
          for (const payload of payloads) {
            cases.push({ label: `${op.operationId} proof.${leaf.join('.')}=${JSON.stringify(payload)}`, path: pathFor(fx, op), body: withLeaf(template, ['proof', ...leaf], payload), key });
          }
        }
        break;
      }
      case 'EventSubmission': {
        const draft: JsonObject = { kind: 'surveillance-audit', effective: iso(now), audit: { outcome: 'passed', date: iso(now - 86_400_000), nextDueBy: iso(now + YEAR / 2), auditor: 'J. Doe' } };
        for (const leaf of stringLeaves(draft)) for (const payload of payloads) cases.push({ label: `${op.operationId} ${leaf.join('.')}=${JSON.stringify(payload)}`, path: pathFor(fx, op), body: withLeaf(draft, leaf, payload), key });
        break;
      }
      case 'RegisterIssuerRequest': {
        const cb = await newCbKey('sql-template');
        for (const payload of payloads) {
          const base = (slug: string): JsonObject => ({ slug, name: 'SQL Cert GmbH', accreditation: { body: 'DAkkS', number: 'D-ZE-1' }, managedSigning: false, keys: [{ keyId: 'key-1', publicKeyMultibase: cb.publicKeyMultibase }] });
          for (const leaf of stringLeaves(base('x'))) cases.push({ label: `${op.operationId} ${leaf.join('.')}=${JSON.stringify(payload)}`, path: pathFor(fx, op), body: withLeaf(base(fresh('sql-cert')), leaf, payload), key });
        }
        break;
      }
      case 'NewKey': {
        for (const payload of payloads) {
          const k = await newCbKey(fx.cb.issuer);
          const base: JsonObject = { keyId: fresh('sql-key'), publicKeyMultibase: k.publicKeyMultibase };
          for (const leaf of stringLeaves(base)) cases.push({ label: `${op.operationId} ${leaf.join('.')}=${JSON.stringify(payload)}`, path: pathFor(fx, op), body: withLeaf(base, leaf, payload), key });
        }
        break;
      }
      case 'RevokeKeyRequest': {
        // Aimed at a key id that is not registered: the body is parsed and checked, and nothing real is revoked.
        const base: JsonObject = { reason: 'key material leaked', compromisedAt: iso(now - 3_600_000) };
        const path = fillPath(op.path, { issuer: fx.cb.issuer, keyId: 'sql-no-such-key' });
        for (const leaf of stringLeaves(base)) for (const payload of payloads) cases.push({ label: `${op.operationId} ${leaf.join('.')}=${JSON.stringify(payload)}`, path, body: withLeaf(base, leaf, payload), key });
        break;
      }
      case 'VerifyRequest': {
        for (const payload of payloads) cases.push({ label: `${op.operationId} items.0=${JSON.stringify(payload)}`, path: pathFor(fx, op), body: { items: [payload, `${fx.target.config.baseUrl}/v/${fx.cb.issuer}/${payload}`] }, key });
        break;
      }
      default:
        throw new Error(`${op.operationId}: no SQL cases for request body ${op.bodySchema ?? '(none)'}; add them to scripts/security/hostile-input.ts`);
    }
  }
  return cases;
}

/** The unsigned template with its number (and the id that derives from it) replaced. */
function exampleCertificateFor(fx: Fixture, unsigned: JsonObject, number: string): JsonObject {
  const doc = structuredClone(unsigned);
  doc.id = `${fx.target.config.baseUrl}/v/${fx.cb.issuer}/${number}`;
  ((doc.credentialSubject as JsonObject).certificate as JsonObject).number = number;
  return doc;
}

async function sql(fx: Fixture, ops: WriteOperation[], rec: Recorder, short: boolean): Promise<void> {
  const payloads = short ? SQL_PAYLOADS.slice(0, 3) : SQL_PAYLOADS;
  const cases = await sqlCases(fx, ops, payloads);
  await pool(
    cases.map((c) => async () => {
      let res: Raw;
      try {
        res = await send(fx.target, 'POST', c.path, { key: c.key, body: JSON.stringify(c.body) });
      } catch (error) {
        return rec.fail('sql', c.label, `no answer: ${error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error)}`);
      }
      rec.check('sql', c.label, res);
      if (res.status === 201 && c.readBack) {
        // Metacharacters are data: the credential reads back exactly as it was signed.
        const view = await send(fx.target, 'GET', `/api/v1/certificates/${fx.cb.issuer}/${c.readBack}`);
        rec.check('sql', `read back ${c.label}`, view, (r) =>
          r.status === 200 && canonicalize((JSON.parse(r.text) as { credential: JsonValue }).credential) === canonicalize(c.body) ? null : 'did not read back as signed',
        );
      }
    }),
    8,
  );
  for (const name of ['q', 'standard', 'issuer', 'cursor', 'status']) {
    for (const payload of payloads) {
      const path = `/api/v1/certificates?${name}=${encodeURIComponent(payload)}`;
      rec.check('sql', path, await send(fx.target, 'GET', path), (r) => (name === 'q' || name === 'standard' || name === 'issuer' ? statusIn(200)(r) : null));
    }
  }
}

/** Certificate numbers a person or a parser could confuse with HX-2026-0001, or that break naive handling. */
export const UNICODE_NUMBERS: ReadonlyArray<[string, string]> = [
  ['NFC É', 'HX-\u00c9-0001'],
  ['NFD É', 'HX-E\u0301-0001'],
  ['zero-width space', 'HX-2026\u200b-0001'],
  ['zero-width joiner', 'HX-2026-\u200d0001'],
  ['BOM inside', '\ufeffHX-2026-0001'],
  ['RTL override', 'HX-2026-\u202e1000'],
  ['LTR mark', 'HX-2026-0001\u200e'],
  ['Cyrillic Х', '\u0425X-2026-0001'],
  ['Greek Χ', 'H\u03a7-2026-0001'],
  ['fullwidth digits', 'HX-\uff12\uff10\uff12\uff16-0001'],
  ['Arabic-Indic digits', 'HX-2026-\u0660\u0660\u0660\u0661'],
  ['non-breaking hyphen', 'HX\u20112026\u20110001'],
  ['combining overlay', 'HX-2026-0001\u0338'],
  ['emoji', 'HX-2026-0001-\u{1f600}'],
  ['NUL', 'HX-2026-0001\u0000'],
  ['newline', 'HX-2026-0001\n'],
  ['trailing space', 'HX-2026-0001 '],
  ['overlong 65', 'H'.repeat(65)],
  ['overlong 8,000', 'H'.repeat(8000)],
];

async function unicode(fx: Fixture, rec: Recorder): Promise<void> {
  const { baseUrl } = fx.target.config;
  for (const [label, number] of UNICODE_NUMBERS) {
    const encoded = encodeURIComponent(number);
    for (const path of [`/v/${fx.cb.issuer}/${encoded}`, `/api/v1/certificates/${fx.cb.issuer}/${encoded}`, `/api/v1/certificates/${fx.cb.issuer}/${encoded}/bundle`]) {
      // A look-alike of a logged number must not resolve to it (no normalization, folding or trimming).
      rec.check('unicode', `GET ${label} ${path.slice(0, 60)}`, await send(fx.target, 'GET', path, { headers: { accept: 'application/json' } }), statusIn(404));
    }
    const events = `/api/v1/certificates/${fx.cb.issuer}/${encoded}/events`;
    rec.check('unicode', `events ${label}`, await send(fx.target, 'POST', events, { key: fx.cb, body: '{"kind":"revoked","reason":"x"}' }), refused);
    // In a signed certificate: the number and the id that derives from it.
    const signed = await signAs(fx.target, fx.cb, exampleCertificateFor(fx, (({ proof: _p, ...rest }) => rest)(await certificate(fx, 'U-1')), number));
    rec.check('unicode', `issue ${label}`, await send(fx.target, 'POST', '/api/v1/certificates', { key: fx.cb, body: JSON.stringify(signed) }), refused);
    rec.check('unicode', `verify ${label}`, await send(fx.target, 'POST', '/api/v1/verify', { body: JSON.stringify({ items: [`${baseUrl}/v/${fx.cb.issuer}/${number}`] }) }), (r) =>
      r.status === 200 && (JSON.parse(r.text) as { results: Array<{ verdict: { valid: boolean } }> }).results[0]?.verdict.valid === false ? null : 'a look-alike verified',
    );
  }
  // Lone surrogates escaped in JSON, where a number or an id is expected.
  const template = JSON.stringify(await certificate(fx, 'HX-2026-0001'));
  for (const [label, escape] of [['high', '\\ud800'], ['low', '\\udc00'], ['reversed pair', '\\udc00\\ud800']]) {
    const body = template.replaceAll('HX-2026-0001', `HX-2026-0001${escape}`);
    rec.check('unicode', `lone surrogate (${label}) in number`, await send(fx.target, 'POST', '/api/v1/certificates', { key: fx.cb, body }), statusIn(400));
    rec.check('unicode', `lone surrogate (${label}) in a batch`, await send(fx.target, 'POST', '/api/v1/verify', { body: `{"items":["${baseUrl}/v/${fx.cb.issuer}/HX${escape}"]}` }), statusIn(400));
  }
}

// --- the program ------------------------------------------------------------------------------------------------

export interface HostileOptions {
  /** A sample of each category (a few hundred requests). */
  short?: boolean;
  log?: (line: string) => void;
}

export async function runHostileInput(options: HostileOptions = {}): Promise<HostileSummary> {
  const short = options.short ?? false;
  const log = options.log ?? (() => {});
  const started = performance.now();
  const server = await startRegistryProcess();
  const rec = new Recorder();
  try {
    const fx = await createFixture(server);
    const ops = await writeOperations(server);
    const rss0 = server.rssKb();
    const steps: Array<[string, () => Promise<void>]> = [
      ['json-suite', () => jsonSuite(fx, ops, rec, short)],
      ['nesting', () => nesting(fx, short ? ops.slice(0, 2) : ops, rec)],
      ['big-bodies', () => bigBodies(fx, ops, rec, server)],
      ['log-reads', () => logReads(fx, rec, short)],
      ['traversal', () => traversal(fx, rec, short)],
      ['sql', () => sql(fx, ops, rec, short)],
      ['unicode', () => unicode(fx, rec)],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        // A request without an answer: the server must have gone away (a crash is the worst denial of service).
        const exit = server.process.process.exitCode ?? server.process.process.signalCode;
        rec.fail(name, 'server', `${error instanceof Error ? error.message : String(error)}; server exit ${exit ?? 'none'}: ${server.process.output().slice(-2000)}`);
        break;
      }
      log(`${name}: ${rec.summary.byCategory[name] ?? 0} requests, ${rec.summary.violations.length} violations so far`);
    }
    const health = await send(server, 'GET', '/healthz').catch(() => ({ status: 0, contentType: null, text: 'no answer' }));
    rec.check('final', 'healthz', health, (r) => (r.status === 200 && (JSON.parse(r.text) as { ok: boolean }).ok ? null : 'not healthy at the end'));
    rec.summary.rssGrowthMb = Math.max(rec.summary.rssGrowthMb, Math.round(((server.rssKb() - rss0) / 1024) * 10) / 10);
    rec.summary.unexpectedServerErrors = server.unexpectedErrors();
    if (rec.summary.unexpectedServerErrors > 0) rec.fail('final', 'server log', `${rec.summary.unexpectedServerErrors} unexpected errors logged`);
  } finally {
    await server.stop();
  }
  rec.summary.elapsedMs = Math.round(performance.now() - started);
  return rec.summary;
}

export function summaryLine(s: HostileSummary): string {
  const categories = Object.entries(s.byCategory).map(([k, v]) => `${k} ${v}`).join(', ');
  return (
    `hostile-input: ${s.requests} requests (${categories}); 5xx ${s.serverErrors}, leaks ${s.leaks}, violations ${s.violations.length}; ` +
    `64 MiB bodies refused after ≤ ${(s.maxBytesBeforeRefusal / MIB).toFixed(1)} MiB sent, healthz ≤ ${Math.round(s.maxHealthMs)} ms, ` +
    `server RSS +${s.rssGrowthMb} MiB; ${(s.elapsedMs / 1000).toFixed(1)} s`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { short: { type: 'boolean' }, json: { type: 'boolean' } } });
  const summary = await runHostileInput({ short: values.short ?? false, log: (line) => console.error(line) });
  for (const v of summary.violations.slice(0, 50)) console.error(`VIOLATION [${v.category}] ${v.label}: ${v.detail}`);
  console.log(values.json ? JSON.stringify(summary) : summaryLine(summary));
  process.exit(summary.violations.length === 0 ? 0 : 1);
}
