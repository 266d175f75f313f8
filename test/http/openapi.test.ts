// /openapi.json and /docs against a real server: the document is OpenAPI 3.1 generated from the zod schemas, it
// describes exactly the routes the Hono app serves (none missing, none invented), every error a probe of each route
// provokes is a documented problem code, the problem codes map to the statuses problem.ts gives them, and /docs is a
// self-contained HTML page naming every path.
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError, type RegistryErrorCode } from '../../src/core/errors.js';
import { type OpenApiDocument, type OperationObject } from '../../src/http/openapi.js';
import { PROBLEM_CODES, PROBLEM_STATUS } from '../../src/http/problem.js';
import { handleError } from '../../src/http/problem.js';
import { call, newCbKey, registerCb, signAs } from '../support/client.js';
import { exampleCertificate } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

type Method = 'get' | 'post';
type DocumentedOperation = { method: Method; path: string; op: OperationObject };

/** Values for path and required query parameters that pass the route's own syntax checks. */
const SAMPLES: Record<string, string> = {
  issuer: 'acme-cert',
  number: 'AI-2026-0001',
  keyId: 'key-1',
  digest: `sha256:${'0'.repeat(64)}`,
  L: '0',
  N: '000',
  from: '1',
  to: '1',
};

function operations(doc: OpenApiDocument): DocumentedOperation[] {
  const out: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post'] as const) {
      const op = item[method];
      if (op) out.push({ method, path, op });
    }
  }
  return out;
}

/** A Hono route path in OpenAPI form: `:param` (and `:param{regex}`, `:param?`) become `{param}`. */
function honoToOpenApi(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(?:\{[^}]*\})?\??/g, '{$1}');
}

/** A regular expression for the URLs a Hono route path matches: `:param` is one segment, `*` any rest. */
function honoPattern(path: string): RegExp {
  const source = path
    .split(/(:[A-Za-z0-9_]+(?:\{[^}]*\})?\??|\*)/)
    .map((part) => (part === '*' ? '.+' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/** A documented path with its parameters filled in from SAMPLES. */
function concrete(path: string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = SAMPLES[name];
    if (value === undefined) throw new Error(`no sample for path parameter ${name}`);
    return value;
  });
}

describe('OpenAPI document and /docs', () => {
  const dir = tempDir();
  let server: TestServer;
  let doc: OpenApiDocument;
  beforeAll(async () => {
    server = await startTestServer(dir.path);
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  /** The app's served routes as (method, path); middleware (method ALL) serves no resource of its own. */
  function servedRoutes(): Array<{ method: Method; path: string }> {
    const out: Array<{ method: Method; path: string }> = [];
    for (const route of server.app.routes) {
      if (route.method === 'ALL') continue;
      const method = route.method.toLowerCase();
      if (method !== 'get' && method !== 'post') throw new Error(`undocumentable method ${route.method} ${route.path}`);
      if (!out.some((r) => r.method === method && r.path === route.path)) out.push({ method, path: route.path });
    }
    return out;
  }

  it('is an OpenAPI 3.1 document with info, paths, components and the bearer JWT schemes', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBe('Certrail');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.servers[0]?.url).toBe(server.config.baseUrl);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(15);
    for (const name of ['Receipt', 'Verdict', 'Check', 'CertificateView', 'SearchPage', 'VerifyRequest', 'VerifyResponse',
      'IssuerList', 'IssuerProfile', 'Jwks', 'Problem', 'Certificate', 'CertificateDraft', 'StatusEvent', 'StatusEventDraft']) {
      expect(doc.components.schemas[name], name).toBeTypeOf('object');
    }
    // Component schemas are plain 2020-12 schemas inside the document: no $schema / $id of their own.
    for (const schema of Object.values(doc.components.schemas)) {
      expect(schema.$schema).toBeUndefined();
      expect(schema.$id).toBeUndefined();
    }
    // Every $ref resolves to a component.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]*"/g) ?? [];
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const target = /"\$ref":"#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1];
      expect(target, ref).toBeDefined();
      expect(doc.components.schemas[target!], ref).toBeDefined();
    }
    // The Problem schema lists every RegistryErrorCode plus 'internal'.
    const problem = doc.components.schemas.Problem as { properties: { code: { enum: string[] } }; required: string[] };
    expect(new Set(problem.properties.code.enum)).toEqual(new Set([...PROBLEM_CODES]));
    expect(problem.properties.code.enum).toContain('internal');
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'code', 'detail']));
    // Bearer JWT, EdDSA, aud, exp ≤ 5 min, single-use jti.
    for (const name of ['certificationBody', 'operator']) {
      const scheme = doc.components.securitySchemes[name]!;
      expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      for (const word of ['EdDSA', '`aud`', '`exp`', '5 minutes', '`jti`', 'single-use', server.config.baseUrl]) {
        expect(scheme.description).toContain(word);
      }
    }
  });

  it('describes every operation: responses, problem+json errors, auth, Idempotency-Key and body limits', () => {
    const ops = operations(doc);
    expect(new Set(ops.map((o) => o.op.operationId)).size).toBe(ops.length);
    for (const { method, path, op } of ops) {
      const label = `${method.toUpperCase()} ${path}`;
      expect(op.summary, label).toBeTruthy();
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => /^2\d\d$/.test(s)), label).toBe(true);
      expect(op.responses['500']?.['x-problem-codes'], label).toContain('internal');
      for (const [status, response] of Object.entries(op.responses)) {
        if (status.startsWith('2')) continue;
        expect(Object.keys(response.content ?? {}), `${label} ${status}`).toEqual(['application/problem+json']);
        for (const code of response['x-problem-codes'] ?? []) expect(PROBLEM_STATUS[code], `${label} ${code}`).toBe(Number(status));
      }
      // Declared path parameters are exactly the template's.
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared.sort(), label).toEqual(templated.sort());
      if (method === 'post') {
        // Every write is authenticated; batch verification is the one public POST.
        if (op.operationId !== 'verifyBatch') expect(op.security, label).toBeDefined();
        expect(op.requestBody?.content['application/json'], label).toBeDefined();
        expect(op.responses['413']?.['x-problem-codes'], label).toContain('payload-too-large');
        expect(op.responses['415']?.['x-problem-codes'], label).toContain('unsupported-media-type');
      }
    }
    const byId = new Map(ops.map((o) => [o.op.operationId, o]));
    // Security is per operation: certification bodies write certificates and events, the operator manages issuers.
    for (const id of ['issueCertificate', 'recordEvent']) expect(byId.get(id)?.op.security).toEqual([{ certificationBody: [] }]);
    for (const id of ['registerIssuer', 'addIssuerKey', 'revokeIssuerKey']) expect(byId.get(id)?.op.security).toEqual([{ operator: [] }]);
    for (const id of ['issueCertificate', 'recordEvent']) {
      const op = byId.get(id)!.op;
      expect(op.parameters?.find((p) => p.name === 'Idempotency-Key')).toMatchObject({ in: 'header', required: false });
      expect(op.requestBody?.['x-max-body-bytes']).toBe(64 * 1024);
      expect(op.responses['401']).toBeDefined();
      expect(op.responses['503']?.['x-problem-codes']).toContain('unavailable');
    }
    // The batch limit: 1 MiB and 1000 items.
    const verify = byId.get('verifyBatch')!.op;
    expect(verify.security).toBeUndefined();
    expect(verify.requestBody?.['x-max-body-bytes']).toBe(1024 * 1024);
    expect(JSON.stringify(doc.components.schemas.VerifyRequest)).toContain('"maxItems":1000');
    expect(doc.info.description).toMatch(/64 KiB.*1 MiB/);
  });

  it('documents every route the app serves, and serves every documented route', () => {
    const served = servedRoutes();
    const documented = operations(doc);
    expect(served.length).toBeGreaterThan(15);
    for (const route of served) {
      const label = `${route.method.toUpperCase()} ${route.path}`;
      if (route.path.includes('*')) {
        // A wildcard (the tile routes) is documented by the concrete path shapes it serves.
        const pattern = honoPattern(route.path);
        const covering = documented.filter((d) => d.method === route.method && pattern.test(concrete(d.path)));
        expect(covering.length, `${label} is not documented`).toBeGreaterThan(0);
      } else {
        const path = honoToOpenApi(route.path);
        expect(documented.some((d) => d.method === route.method && d.path === path), `${label} is not documented`).toBe(true);
      }
    }
    for (const d of documented) {
      const label = `${d.method.toUpperCase()} ${d.path}`;
      const isServed = served.some(
        (r) => r.method === d.method && (honoToOpenApi(r.path) === d.path || (r.path.includes('*') && honoPattern(r.path).test(concrete(d.path)))),
      );
      expect(isServed, `${label} is documented but not served`).toBe(true);
    }
  });

  /** Calls every documented operation with sample parameters (no auth, no body); returns the statuses by operationId. */
  async function probeAll(): Promise<Map<string, number>> {
    const statuses = new Map<string, number>();
    for (const { method, path, op } of operations(doc)) {
      const label = `${method.toUpperCase()} ${path}`;
      const query = (op.parameters ?? [])
        .filter((p) => p.in === 'query' && p.required)
        .map((p) => `${p.name}=${encodeURIComponent(SAMPLES[p.name] ?? '')}`)
        .join('&');
      const res = await fetch(`${server.url}${concrete(path)}${query ? `?${query}` : ''}`, { method: method.toUpperCase() });
      const text = await res.text();
      statuses.set(op.operationId, res.status);
      const documented = op.responses[String(res.status)];
      expect(documented, `${label} answered an undocumented ${res.status}: ${text.slice(0, 200)}`).toBeDefined();
      if (res.status >= 400) {
        expect(res.headers.get('content-type'), label).toBe('application/problem+json');
        const body = JSON.parse(text) as { code: string; detail: string; status: number };
        expect(body.detail, `${label} fell through to the not-found handler`).not.toMatch(/^no route for/);
        expect(body.status, label).toBe(res.status);
        expect(documented!['x-problem-codes'], `${label}: undocumented code ${body.code}`).toContain(body.code);
      } else {
        const types = Object.keys(documented!.content ?? {}).map((t) => t.split(';')[0]);
        expect(types, label).toContain(res.headers.get('content-type')?.split(';')[0]);
        // A JSON body has the documented schema's required members (and no others where the schema is closed).
        const json = Object.entries(documented!.content ?? {}).find(([type]) => /^application\/(?:[a-z0-9.+-]+\+)?json$/.test(type));
        const ref = json?.[1].schema?.$ref;
        if (typeof ref === 'string') {
          const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')] as {
            properties: Record<string, unknown>;
            required?: string[];
            additionalProperties?: boolean;
          };
          const body = JSON.parse(text) as Record<string, unknown>;
          for (const name of schema.required ?? []) expect(body, `${label}: ${name}`).toHaveProperty(name);
          for (const name of Object.keys(body)) expect(Object.keys(schema.properties), `${label}: ${name}`).toContain(name);
        }
      }
    }
    return statuses;
  }

  it('answers a probe of every documented operation from its route, with a documented status and problem code', async () => {
    await probeAll();
  });

  it('answers as documented once the registry holds an issuer and a certificate', async () => {
    const cb = await newCbKey(SAMPLES.issuer!);
    expect((await registerCb(server, SAMPLES.issuer!, [cb])).status).toBe(201);
    const now = Date.now();
    const unsigned = exampleCertificate(server.config.baseUrl, SAMPLES.issuer!, SAMPLES.number!, {
      validFrom: iso(now - year),
      validUntil: iso(now + year),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + year / 2) } } },
    });
    const issued = await call(server, 'POST', '/api/v1/certificates', { key: cb, body: await signAs(server, cb, unsigned) });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const receipt = doc.components.schemas.Receipt as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(receipt.properties)).toEqual(expect.arrayContaining(Object.keys(issued.body)));
    for (const name of receipt.required) expect(issued.body).toHaveProperty(name);
    const statuses = await probeAll();
    for (const id of ['verifyCertificate', 'getCertificate', 'getBundle', 'getIssuer', 'getIssuerJwks', 'getIssuerDid', 'searchCertificates']) {
      expect(statuses.get(id), id).toBe(200);
    }
  });

  it('gives each problem code the status problem.ts maps it to', async () => {
    const app = new Hono();
    app.onError(handleError);
    app.get('/:code', (c) => {
      const code = c.req.param('code');
      if (code === 'internal') throw new Error('boom');
      throw new RegistryError(code as RegistryErrorCode, 'probe');
    });
    const quiet = console.error;
    console.error = () => {};
    try {
      for (const code of PROBLEM_CODES) {
        const res = await app.request(`/${code}`);
        expect(res.status, code).toBe(PROBLEM_STATUS[code]);
        expect(((await res.json()) as { code: string }).code).toBe(code);
      }
    } finally {
      console.error = quiet;
    }
  });

  it('renders /docs as self-contained HTML naming every path, method and error code', async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>\s*<html lang="en">/i);
    expect(html).toContain('<title>');
    // No script, no external stylesheet, font or image.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    for (const { method, path, op } of operations(doc)) {
      expect(html, path).toContain(`<code class="path">${path}</code>`);
      expect(html, path).toContain(`id="${method}-`);
      for (const response of Object.values(op.responses)) {
        for (const code of response['x-problem-codes'] ?? []) expect(html).toContain(`<code class="code">${code}</code>`);
      }
    }
    for (const name of ['Receipt', 'CertificateView', 'Problem', 'VerifyRequest']) expect(html).toContain(`id="schema-${name}"`);
    expect(html).toContain('Idempotency-Key');
    expect(html).toContain('64 KiB');
    expect(html).toContain('1 MiB');
  });
});
