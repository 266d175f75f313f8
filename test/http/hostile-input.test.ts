// Hostile request bodies over real HTTP: every JSON parsing test file (JSONTestSuite's test_parsing) posted to every
// write endpoint gets a 2xx or a 4xx problem, never a 5xx; duplicate keys, unsafe integers, oversized bodies (declared
// or chunked), too many batch items, wrong media types and absurd nesting are refused with the documented codes; no
// response ever reveals a stack trace, SQL or a file path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenKey } from '../../src/cli/token.js';
import { MAX_BATCH_BYTES, MAX_DOCUMENT_BYTES } from '../../src/http/body.js';
import type { JsonObject } from '../../src/core/json.js';
import { answerViolation, LEAK, pool, send, sendStreamed, treeSize as treeSizeOf, writeOperations, type Raw } from '../../scripts/security/harness.js';
import { jsonTestSuite, pathFor, principalFor, type Fixture } from '../../scripts/security/hostile-input.js';
import { call, newCbKey, operatorKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('hostile request bodies', () => {
  const dir = tempDir();
  let server: TestServer;
  let cb: CbKey;
  let eventsPath: string;

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    cb = await newCbKey('hostile-cert');
    // Managed signing on, so bodies without a proof go all the way through draft parsing too.
    expect((await registerCb(server, 'hostile-cert', [cb], true)).status).toBe(201);
    const issued = await call(server, 'POST', '/api/v1/certificates', { key: cb, body: await certificate('HX-2026-0001') });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    eventsPath = '/api/v1/certificates/hostile-cert/HX-2026-0001/events';
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  async function certificate(number: string): Promise<JsonObject> {
    const now = Date.now();
    return signAs(
      server,
      cb,
      exampleCertificate(server.config.baseUrl, 'hostile-cert', number, {
        validFrom: iso(now - year),
        validUntil: iso(now + 2 * year),
        credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + 0.5 * year) } } },
      }),
    );
  }

  const treeSize = () => treeSizeOf(server);

  /** POSTs raw bytes (Content-Length set) with a fresh token of `key`, if given. */
  const post = (path: string, body: Uint8Array | string, key?: TokenKey, contentType: string | null = 'application/json'): Promise<Raw> =>
    send(server, 'POST', path, { body, contentType, ...(key ? { key } : {}) });

  /** POSTs `chunks` with chunked transfer encoding (no Content-Length). */
  const postChunked = (path: string, chunks: Iterable<Uint8Array | string>, key?: TokenKey): Promise<Raw> =>
    sendStreamed(server, path, chunks, key ? { key } : {});

  /** A 2xx, or a 4xx problem with a code; never a 5xx; nothing leaked. */
  function expectSafe(res: Raw, label: string): void {
    expect(answerViolation(res), `${label}: ${res.status} ${res.text.slice(0, 300)}`).toBeNull();
  }

  function expectProblem(res: Raw, status: number, code: string, label = code): void {
    expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBe(status);
    expect(res.contentType, label).toBe('application/problem+json');
    expect((JSON.parse(res.text) as { code: string }).code, label).toBe(code);
    expect(res.text, label).not.toMatch(LEAK);
  }

  it('answers every JSONTestSuite file on every write endpoint with 2xx or a 4xx problem, never 5xx', { timeout: 30_000 }, async () => {
    const files = jsonTestSuite();
    expect(files.length).toBeGreaterThan(300);
    // Every write endpoint of the OpenAPI document, with a valid token of its principal (scripts/security/hostile-input.ts).
    const fixture: Fixture = { target: server, cb, operator: operatorKey(server), number: 'HX-2026-0001', spareKeyId: 'no-such-key' };
    const endpoints = (await writeOperations(server)).map((op) => [pathFor(fixture, op), principalFor(fixture, op)] as const);
    expect(endpoints.length).toBeGreaterThanOrEqual(6);
    const before = await treeSize();
    const tasks = files.flatMap(({ file, bytes }) =>
      endpoints.map(([path, key]) => async () => ({ label: `${file} → ${path}`, file, path, res: await post(path, bytes, key) })),
    );
    const results = await pool(tasks, 24);
    const statuses = new Map<number, number>();
    for (const { label, res, file } of results) {
      expectSafe(res, label);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      // Files that are not JSON (n_) are malformed JSON or too large, whatever the endpoint.
      if (file.startsWith('n_')) expect([400, 413], `${label}: ${res.text}`).toContain(res.status);
      if (file.startsWith('n_') && res.status === 400) expect(JSON.parse(res.text).code, label).toBe('bad-json');
    }
    // Every one was authenticated (a fresh token each), so the refusals are the bodies'.
    expect(statuses.has(401)).toBe(false);
    expect(statuses.has(403)).toBe(false);
    // None of them is a certificate, event, issuer or key: nothing was logged.
    expect(await treeSize()).toBe(before);
  });

  it('refuses duplicate member names with 400 bad-json', async () => {
    const signed = JSON.stringify(await certificate('HX-2026-0002'));
    const before = await treeSize();
    // A signed credential with a second "id" appended: the signature covers one, a lax parser would keep the other.
    const dupId = `${signed.slice(0, -1)},"id":"${server.config.baseUrl}/v/hostile-cert/HX-2026-9999"}`;
    expectProblem(await post('/api/v1/certificates', dupId, cb), 400, 'bad-json', 'duplicate id');
    // The duplicate spelled with an escape, and nested.
    const escaped = `{"\\u0070roof":1,${signed.slice(1)}`;
    expectProblem(await post('/api/v1/certificates', escaped, cb), 400, 'bad-json', 'escaped duplicate');
    expectProblem(await post(eventsPath, '{"kind":"revoked","kind":"suspended","reason":"x"}', cb), 400, 'bad-json', 'event');
    expectProblem(await post('/api/v1/verify', '{"items":[],"items":["x"]}'), 400, 'bad-json', 'verify');
    expectProblem(await post('/api/v1/verify', '{"items":[{"a":{"b":1,"b":1}}]}'), 400, 'bad-json', 'nested');
    expectProblem(
      await post('/api/v1/issuers', '{"slug":"dup-cert","slug":"registry","name":"X","managedSigning":true}', operatorKey(server)),
      400,
      'bad-json',
      'issuers',
    );
    expect(await treeSize()).toBe(before);
    // The control: the credential itself is accepted.
    expect((await post('/api/v1/certificates', signed, cb)).status).toBe(201);
  });

  it('refuses integers beyond 2^53 - 1 with 400 bad-json', async () => {
    const before = await treeSize();
    for (const n of ['9007199254740992', '-9007199254740992', '9007199254740993', '18446744073709551616', '1' + '0'.repeat(400)]) {
      expectProblem(await post('/api/v1/verify', `{"items":[${n}]}`), 400, 'bad-json', n);
      expectProblem(await post('/api/v1/certificates', `{"credentialSubject":{"models":[{"size":${n}}]}}`, cb), 400, 'bad-json', n);
    }
    const signed = await certificate('HX-2026-0003');
    const big = JSON.stringify({ ...signed, previous: { index: 0 } }).replace('"index":0', '"index":9007199254740992');
    expectProblem(await post('/api/v1/certificates', big, cb), 400, 'bad-json', 'in a credential');
    expectProblem(await post(eventsPath, '{"kind":"suspended","reason":"x","previous":{"index":9007199254740992}}', cb), 400, 'bad-json');
    expect(await treeSize()).toBe(before);
    // The largest safe integer itself is fine JSON (the batch item is just not a certificate).
    const safe = await post('/api/v1/verify', '{"items":[9007199254740991, -9007199254740991]}');
    expect(safe.status, safe.text).toBe(200);
  });

  it('refuses bodies over the limits with 413, declared or chunked, without reading them whole', async () => {
    const before = await treeSize();
    const padded = (size: number) => {
      const head = '{"pad":"';
      return `${head}${'x'.repeat(size - head.length - 2)}"}`;
    };
    const doc = padded(MAX_DOCUMENT_BYTES + 1);
    expect(doc.length).toBe(64 * 1024 + 1);
    expectProblem(await post('/api/v1/certificates', doc, cb), 413, 'payload-too-large', 'certificate, Content-Length');
    expectProblem(await post(eventsPath, doc, cb), 413, 'payload-too-large', 'event, Content-Length');
    expectProblem(await post('/api/v1/issuers', doc, operatorKey(server)), 413, 'payload-too-large', 'issuers');
    expectProblem(await post('/api/v1/issuers/hostile-cert/keys', doc, operatorKey(server)), 413, 'payload-too-large', 'keys');
    // Chunked, no Content-Length: one byte over, in small pieces …
    const pieces = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
    expectProblem(await postChunked('/api/v1/certificates', pieces(doc, 4096), cb), 413, 'payload-too-large', 'certificate, chunked');
    expectProblem(await postChunked(eventsPath, pieces(doc, 1000), cb), 413, 'payload-too-large', 'event, chunked');
    // … and an endless stream, cut off by the server after the limit (64 MiB offered, far more than it may buffer).
    function* endless(): Generator<string> {
      yield '{"pad":"';
      const block = 'y'.repeat(64 * 1024);
      for (let i = 0; i < 1024; i++) yield block;
    }
    expectProblem(await postChunked('/api/v1/certificates', endless(), cb), 413, 'payload-too-large', 'endless');
    // Exactly at the limit is not too large (it is just not a certificate).
    const atLimit = await post('/api/v1/certificates', padded(MAX_DOCUMENT_BYTES), cb);
    expect(atLimit.status, atLimit.text).toBe(400);
    const atLimitChunked = await postChunked('/api/v1/certificates', pieces(padded(MAX_DOCUMENT_BYTES), 4096), cb);
    expect(atLimitChunked.status, atLimitChunked.text).toBe(400);

    // The batch endpoint allows 1 MiB.
    const batch = (size: number) => {
      const head = '{"items":[],"pad":"';
      return `${head}${'z'.repeat(size - head.length - 2)}"}`;
    };
    expectProblem(await post('/api/v1/verify', batch(MAX_BATCH_BYTES + 1)), 413, 'payload-too-large', 'verify, Content-Length');
    expectProblem(await postChunked('/api/v1/verify', pieces(batch(MAX_BATCH_BYTES + 1), 64 * 1024)), 413, 'payload-too-large', 'verify, chunked');
    const full = await post('/api/v1/verify', batch(MAX_BATCH_BYTES));
    expect(full.status, full.text.slice(0, 200)).toBe(200);
    expect(JSON.parse(full.text)).toEqual({ results: [] });
    expect(await treeSize()).toBe(before);
  });

  it('refuses more than 1000 batch items with 413', async () => {
    const id = `${server.config.baseUrl}/v/hostile-cert/HX-2026-0001`;
    expectProblem(await post('/api/v1/verify', JSON.stringify({ items: Array(1001).fill(id) })), 413, 'payload-too-large', '1001 items');
    expectProblem(await post('/api/v1/verify', JSON.stringify(Array(1001).fill(0))), 413, 'payload-too-large', '1001 bare items');
    const ok = await post('/api/v1/verify', JSON.stringify({ items: Array(1000).fill(id) }));
    expect(ok.status).toBe(200);
    const results = (JSON.parse(ok.text) as { results: Array<{ id: string; verdict: { status: string } }> }).results;
    expect(results).toHaveLength(1000);
    expect(results[999]!.verdict.status).toBe('active');
  });

  it('refuses other media types with 415', async () => {
    const signed = JSON.stringify(await certificate('HX-2026-0004'));
    const before = await treeSize();
    for (const type of [null, 'text/plain', 'text/json', 'application/jsonp', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '*/*', 'application/json-seq']) {
      expectProblem(await post('/api/v1/certificates', signed, cb, type), 415, 'unsupported-media-type', `certificates ${type}`);
      expectProblem(await post(eventsPath, '{}', cb, type), 415, 'unsupported-media-type', `events ${type}`);
      expectProblem(await post('/api/v1/verify', '{"items":[]}', undefined, type), 415, 'unsupported-media-type', `verify ${type}`);
      expectProblem(await post('/api/v1/issuers', '{}', operatorKey(server), type), 415, 'unsupported-media-type', `issuers ${type}`);
    }
    expect(await treeSize()).toBe(before);
    // JSON with parameters or a +json suffix is JSON.
    expect((await post('/api/v1/certificates', signed, cb, 'application/json; charset=utf-8')).status).toBe(201);
    expect((await post('/api/v1/verify', '{"items":[]}', undefined, 'application/ld+json')).status).toBe(200);
  });

  it('refuses absurd nesting with 400 bad-json, without overflowing the stack', async () => {
    const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
    expectProblem(await post('/api/v1/verify', deep(100_000, '[', ']')), 400, 'bad-json', 'arrays 100,000 deep');
    expectProblem(await post('/api/v1/verify', deep(100_000, '{"a":', '}')), 400, 'bad-json', 'objects 100,000 deep');
    expectProblem(await post('/api/v1/verify', `{"items":${deep(100_000, '[', ']')}}`), 400, 'bad-json', 'items 100,000 deep');
    expectProblem(await post('/api/v1/verify', '['.repeat(100_000)), 400, 'bad-json', 'unclosed');
    // Within the 64 KiB document limit, on every write endpoint.
    const docDeep = deep(32_000, '[', ']');
    expectProblem(await post('/api/v1/certificates', docDeep, cb), 400, 'bad-json', 'certificates');
    expectProblem(await post(eventsPath, docDeep, cb), 400, 'bad-json', 'events');
    expectProblem(await post('/api/v1/issuers', docDeep, operatorKey(server)), 400, 'bad-json', 'issuers');
    expectProblem(await post('/api/v1/issuers/hostile-cert/keys', docDeep, operatorKey(server)), 400, 'bad-json', 'keys');
    // The server is still well.
    const health = await call(server, 'GET', '/healthz');
    expect(health.body.ok).toBe(true);
  });

  it('answers other malformed inputs with problems that leak nothing', async () => {
    const token = () => cb;
    const cases: Array<[string, string, Uint8Array | string]> = [
      ['empty body', '/api/v1/certificates', ''],
      ['whitespace', '/api/v1/certificates', '   '],
      ['BOM', '/api/v1/certificates', '\ufeff{}'],
      ['invalid UTF-8', '/api/v1/certificates', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
      ['lone surrogate', '/api/v1/verify', '{"items":["\\ud800"]}'],
      ['NUL in a string', '/api/v1/certificates', '{"id":"a\u0000b"}'],
      ['__proto__ member', '/api/v1/issuers', '{"__proto__":{"slug":"evil"},"constructor":{"prototype":{}},"name":"x"}'],
      ['SQL in a field', '/api/v1/issuers', `{"slug":"x'; DROP TABLE issuers; --","name":"x","managedSigning":true}`],
      ['a string for a certificate', '/api/v1/verify', '{"items":["\'; DROP TABLE entries; --",{"proof":{"verificationMethod":"x"}}]}'],
      ['huge string items', '/api/v1/verify', JSON.stringify({ items: ['x'.repeat(200_000), { id: 'y'.repeat(200_000) }] })],
      ['numbers as keys', '/api/v1/issuers/hostile-cert/keys', '{"keyId":1e308,"publicKeyMultibase":-0}'],
      ['bad multikey', '/api/v1/issuers/hostile-cert/keys', '{"keyId":"key-x","publicKeyMultibase":"z' + '1'.repeat(5000) + '"}'],
      ['issuer with a bad key', '/api/v1/issuers', '{"slug":"bad-key-cert","name":"x","keys":[{"keyId":"k","publicKeyMultibase":"zzz"}]}'],
      ['issuer with a path as key id', '/api/v1/issuers', `{"slug":"bad-kid-cert","name":"x","keys":[{"keyId":"../../x","publicKeyMultibase":"${'z6Mk'}"}]}`],
      ['issuer with a long key id', '/api/v1/issuers', `{"slug":"long-kid-cert","name":"x","keys":[{"keyId":"${'k'.repeat(10_000)}","publicKeyMultibase":"z6Mk"}]}`],
      ['issuer with odd types', '/api/v1/issuers', '{"slug":"odd-cert","name":"x","accreditation":[1],"managedSigning":"yes","keys":{}}'],
      ['reserved slug', '/api/v1/issuers', '{"slug":"registry","name":"x","managedSigning":true}'],
      ['uppercase slug', '/api/v1/issuers', '{"slug":"EVIL","name":"x","managedSigning":true}'],
      ['event with no certificate', '/api/v1/certificates/hostile-cert/NO-SUCH-1/events', '{"kind":"revoked","reason":"x"}'],
      ['path traversal', '/api/v1/certificates/..%2F..%2Fetc/passwd/events', '{}'],
      ['odd issuer', '/api/v1/issuers/%00%27%22/keys', '{"keyId":"k","publicKeyMultibase":"z"}'],
    ];
    const before = await treeSize();
    for (const [label, path, body] of cases) {
      const key = path.includes('/issuers') ? operatorKey(server) : token();
      expectSafe(await post(path, body, key), label);
    }
    const idem = await send(server, 'POST', '/api/v1/certificates', { key: cb, body: '{}', headers: { 'idempotency-key': 'x'.repeat(129) } });
    expectProblem(idem, 400, 'bad-request', 'long Idempotency-Key');
    expect(await treeSize()).toBe(before);
  });
});
