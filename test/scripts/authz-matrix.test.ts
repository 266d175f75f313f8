// The authorization matrix (scripts/security/authz-matrix.ts): one round against a real server process has no
// violation and covers every actor; the matrix is derived from the OpenAPI document, so an operation it cannot build
// a request for stops it instead of being skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTORS, expectedOutcome, planMatrix, runMatrix, UnbuildableOperation } from '../../scripts/security/authz-matrix.js';
import { startRegistryProcess, writeOperations, writeOperationsOf, type RegistryProcess } from '../../scripts/security/harness.js';

describe('authorization matrix', () => {
  let server: RegistryProcess;
  beforeAll(async () => {
    server = await startRegistryProcess();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('refuses every actor but the rightful one, and nothing is logged on a refusal', { timeout: 60_000 }, async () => {
    const summary = await runMatrix(server, { rounds: 1 });
    expect(summary.violations).toEqual([]);
    expect(summary.operations).toBe((await writeOperations(server)).length);
    expect(summary.refusals).toBeGreaterThan(50);
    expect(summary.controls).toBeGreaterThan(5);
    expect(summary.treeChecks).toBe(summary.cells - summary.controls);
    for (const actor of ACTORS) expect(Object.keys(summary.byActor[actor] ?? {}).length, actor).toBeGreaterThan(0);
    expect(Object.keys(summary.byActor.anonymous!)).toEqual(['200', '401']);
    expect(server.unexpectedErrors()).toBe(0);
  });

  it('fails on an operation it cannot build a request for', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Parameters<typeof writeOperationsOf>[0];
    expect(() => planMatrix(writeOperationsOf(doc))).not.toThrow();
    const withBody = structuredClone(doc);
    withBody.paths['/api/v1/certificates/{issuer}/{number}/transfer'] = {
      post: { operationId: 'transferCertificate', security: [{ certificationBody: [] }], requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Transfer' } } } } },
    } as never;
    expect(() => planMatrix(writeOperationsOf(withBody))).toThrow(UnbuildableOperation);
    const withParam = structuredClone(doc);
    withParam.paths['/api/v1/things/{thing}'] = {
      delete: { operationId: 'deleteThing', security: [{ operator: [] }], parameters: [{ name: 'thing', in: 'path' }] },
    } as never;
    expect(() => planMatrix(writeOperationsOf(withParam))).toThrow(/path parameter thing/);
    const withScheme = structuredClone(doc);
    withScheme.paths['/api/v1/verify']!.post!.security = [{ apiKey: [] }];
    expect(() => planMatrix(writeOperationsOf(withScheme))).toThrow(/security scheme apiKey/);
  });

  it('expects only the rightful principal to act', () => {
    const op = (scheme: string | null) => ({ method: 'POST', path: '/x', operationId: 'x', scheme, bodySchema: 'NewKey', parameters: [] });
    expect(expectedOutcome(op('certificationBody'), 'b', 'cb-b')).toEqual({ allowed: true, statuses: [201] });
    expect(expectedOutcome(op('certificationBody'), 'b', 'cb-a')).toEqual({ allowed: false, statuses: [403, 404] });
    expect(expectedOutcome(op('certificationBody'), 'a', 'operator')).toEqual({ allowed: false, statuses: [403, 404] });
    expect(expectedOutcome(op('operator'), 'a', 'cb-a')).toEqual({ allowed: false, statuses: [403] });
    for (const actor of ['anonymous', 'expired', 'revoked-key'] as const) {
      expect(expectedOutcome(op('operator'), 'a', actor)).toEqual({ allowed: false, statuses: [401] });
      expect(expectedOutcome(op('certificationBody'), 'a', actor)).toEqual({ allowed: false, statuses: [401] });
    }
  });
});
