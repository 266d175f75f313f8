// Authorization matrix, generated from the served /openapi.json against a real `certrail serve` process: every
// operation that is not a GET × every actor × objects owned by each of two certification bodies. Actors: CB A and CB B
// with valid tokens, the operator, no token, an expired token of the rightful principal, and a token signed by a
// revoked key of the owning CB (DESIGN §Interfaces: EdDSA, aud = base URL, exp ≤ 5 min, single-use jti).
//
// Expected per cell: only the rightful principal with a valid token may act (the owning CB for `certificationBody`
// operations, the operator for `operator` ones); another CB or the operator on a CB's object → 403 or 404; a CB on an
// operator operation → 403; anonymous, expired and revoked-key tokens → 401; a public operation (no security) answers
// everyone alike and never writes. Every refusal is a problem+json with the matching code, and the log's tree size is
// the same after it as before. After the refusals the rightful principal sends the same request and it succeeds, so
// each refusal was the actor's, not the body's.
//
// Requests are built from the document: path parameters by name, the Idempotency-Key header, bodies by their schema
// (below, `BODY_BUILDERS`). An operation the matrix cannot build a request for fails the run, so a new operation is
// either covered or noticed.
//
//   npx tsx scripts/security/authz-matrix.ts [--rounds 10] [--short] [--json]
//
// --short is one round (for test/scripts/authz-matrix.test.ts). Prints one summary line; exits 1 on any violation.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { importJWK, SignJWT } from 'jose';
import { mintToken, type TokenKey } from '../../src/cli/token.js';
import { ed25519Jwk } from '../../src/http/auth.js';
import type { JsonObject } from '../../src/core/json.js';
import { newCbKey, operatorKey, registerCb, signAs, type CbKey } from '../../test/support/client.js';
import { exampleStatusEvent } from '../../test/support/examples.js';
import { currentCertificate, fillPath, send, startRegistryProcess, treeSize, writeOperations, type Raw, type Target, type WriteOperation } from './harness.js';

const YEAR = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const ACTORS = ['cb-a', 'cb-b', 'operator', 'anonymous', 'expired', 'revoked-key'] as const;
export type Actor = (typeof ACTORS)[number];
type Owner = 'a' | 'b';

interface Cb {
  slug: string;
  key: CbKey;
  /** Registered, then revoked before the matrix runs. */
  revoked: CbKey;
}

interface World {
  target: Target;
  cbs: Record<Owner, Cb>;
  operator: TokenKey;
  serial: number;
}

/** A request body variant for one cell row, made for the object's owner by the rightful principal or the attacker. */
interface Variant {
  name: string;
  /** The body; `actor` is the CB acting, when the variant is "signed by the actor". */
  body(world: World, owner: Owner, object: ObjectRef, actor: Actor): Promise<JsonObject>;
  /** The rightful principal's request with this body succeeds (the control). */
  control: boolean;
}

/** The objects a cell acts on, owned by one CB. */
interface ObjectRef {
  issuer: string;
  /** A logged certificate of the owner. */
  number: string;
  /** A number of the owner's namespace not issued yet (what an issuance acts on). */
  newNumber: string;
  keyId: string;
}

const fresh = (world: World, prefix: string) => `${prefix}-${++world.serial}`;

const signedCertificate = (world: World, signer: CbKey, issuer: string, number: string) => currentCertificate(world.target, signer, issuer, number);

const actorCb = (world: World, actor: Actor): CbKey | null => (actor === 'cb-a' ? world.cbs.a.key : actor === 'cb-b' ? world.cbs.b.key : null);

/**
 * Request bodies by request body schema (the component name in /openapi.json). A schema missing here makes the
 * operations that use it unbuildable, and the run fails.
 */
export const BODY_BUILDERS: Readonly<Record<string, Variant[]>> = {
  CertificateSubmission: [
    { name: 'signed by the owner', control: true, body: (w, owner, obj) => signedCertificate(w, w.cbs[owner].key, obj.issuer, obj.newNumber) },
    {
      name: 'signed by the actor, naming the owner',
      control: false,
      body: (w, owner, obj, actor) => signedCertificate(w, actorCb(w, actor) ?? w.cbs[owner].key, obj.issuer, obj.newNumber),
    },
  ],
  EventSubmission: [
    {
      name: 'signed by the owner',
      control: true,
      body: async (w, owner, obj) => {
        const head = await chainHead(w, obj);
        const id = `${w.target.config.baseUrl}/v/${obj.issuer}/${obj.number}`;
        return signAs(w.target, w.cbs[owner].key, exampleStatusEvent(id, 'suspended', { previous: head, effective: iso(Date.now()) }));
      },
    },
    { name: 'draft for managed signing', control: true, body: async () => ({ kind: 'surveillance-audit', effective: iso(Date.now()), audit: { outcome: 'passed', date: iso(Date.now() - 86_400_000), nextDueBy: iso(Date.now() + YEAR / 2), auditor: 'J. Doe' } }) },
  ],
  RegisterIssuerRequest: [
    {
      name: 'a new CB',
      control: true,
      body: async (w) => ({ slug: fresh(w, 'matrix-cert'), name: 'Matrix Cert GmbH', managedSigning: false, keys: [{ keyId: 'key-1', publicKeyMultibase: (await newCbKey('x')).publicKeyMultibase }] }),
    },
  ],
  NewKey: [{ name: 'a new key', control: true, body: async (w) => ({ keyId: fresh(w, 'matrix-key'), publicKeyMultibase: (await newCbKey('x')).publicKeyMultibase }) }],
  RevokeKeyRequest: [{ name: 'a compromise', control: true, body: async () => ({ reason: 'key material leaked', compromisedAt: iso(Date.now() - 60_000) }) }],
  VerifyRequest: [{ name: 'the owner’s certificate', control: true, body: async (w, _o, obj) => ({ items: [`${w.target.config.baseUrl}/v/${obj.issuer}/${obj.number}`] }) }],
};

async function chainHead(world: World, obj: ObjectRef): Promise<{ index: number; leafHash: string }> {
  type Logged = { index: number; leafHash: string };
  const view = JSON.parse((await send(world.target, 'GET', `/api/v1/certificates/${obj.issuer}/${obj.number}`)).text) as { issued: Logged; events: Logged[] };
  const head = view.events.at(-1) ?? view.issued;
  return { index: head.index, leafHash: head.leafHash };
}

/** Path parameters the matrix can fill, by name. */
const PATH_PARAMETERS = new Set(['issuer', 'number', 'keyId']);
/** Header parameters the matrix can fill, by name. */
const HEADER_PARAMETERS = new Set(['Idempotency-Key']);
const SCHEMES = new Set(['certificationBody', 'operator']);

export class UnbuildableOperation extends Error {}

/** The rows of the matrix: each write operation with its body variants; throws for an operation it cannot build. */
export function planMatrix(ops: readonly WriteOperation[]): Array<{ op: WriteOperation; variants: Variant[] }> {
  return ops.map((op) => {
    const why = (reason: string) => new UnbuildableOperation(`${op.method} ${op.path} (${op.operationId}): ${reason}`);
    if (op.scheme !== null && !SCHEMES.has(op.scheme)) throw why(`unknown security scheme ${op.scheme}`);
    for (const p of op.parameters) {
      if (p.in === 'path' && !PATH_PARAMETERS.has(p.name)) throw why(`no value for path parameter ${p.name}`);
      if (p.in === 'header' && !HEADER_PARAMETERS.has(p.name)) throw why(`no value for header ${p.name}`);
      if (p.in !== 'path' && p.in !== 'header') throw why(`cannot fill ${p.in} parameter ${p.name}`);
    }
    const variants = op.bodySchema === null ? undefined : BODY_BUILDERS[op.bodySchema];
    if (!variants) throw why(`no request body builder for ${op.bodySchema ?? 'an operation without a JSON body'}`);
    return { op, variants };
  });
}

/** The statuses a cell may answer, and whether it is the rightful principal's. */
export function expectedOutcome(op: WriteOperation, owner: Owner, actor: Actor): { allowed: boolean; statuses: number[] } {
  if (op.scheme === null) return { allowed: true, statuses: [200] };
  if (actor === 'anonymous' || actor === 'expired' || actor === 'revoked-key') return { allowed: false, statuses: [401] };
  if (op.scheme === 'operator') return actor === 'operator' ? { allowed: true, statuses: [201] } : { allowed: false, statuses: [403] };
  const rightful = (owner === 'a' && actor === 'cb-a') || (owner === 'b' && actor === 'cb-b');
  return rightful ? { allowed: true, statuses: [201] } : { allowed: false, statuses: [403, 404] };
}

const CODE: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not-found' };

async function expiredToken(key: TokenKey, audience: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const privateKey = await importJWK({ ...ed25519Jwk(key.publicKey, key.keyId), d: Buffer.from(key.seed).toString('base64url') }, 'EdDSA');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' })
    .setIssuer(key.issuer)
    .setAudience(audience)
    .setIssuedAt(now - 400)
    .setExpirationTime(now - 100)
    .setJti(randomUUID())
    .sign(privateKey);
}

/** The Authorization header of `actor` for an operation on `owner`'s object (undefined: none). */
async function authorization(world: World, op: WriteOperation, owner: Owner, actor: Actor): Promise<string | undefined> {
  const audience = world.target.config.baseUrl;
  const rightful = op.scheme === 'operator' ? world.operator : world.cbs[owner].key;
  switch (actor) {
    case 'anonymous':
      return undefined;
    case 'cb-a':
      return `Bearer ${await mintToken(world.cbs.a.key, audience)}`;
    case 'cb-b':
      return `Bearer ${await mintToken(world.cbs.b.key, audience)}`;
    case 'operator':
      return `Bearer ${await mintToken(world.operator, audience)}`;
    case 'expired':
      return `Bearer ${await expiredToken(rightful, audience)}`;
    case 'revoked-key':
      return `Bearer ${await mintToken(world.cbs[owner].revoked, audience)}`;
  }
}

/** The rightful actor of an operation on `owner`'s object. */
function rightfulActor(op: WriteOperation, owner: Owner): Actor {
  return op.scheme === 'operator' ? 'operator' : owner === 'a' ? 'cb-a' : 'cb-b';
}

/** A fresh object of `owner` for one row: a certificate of its own and a key to revoke. */
async function prepareObject(world: World, owner: Owner): Promise<ObjectRef> {
  const cb = world.cbs[owner];
  const number = fresh(world, 'MX');
  const issued = await send(world.target, 'POST', '/api/v1/certificates', { key: cb.key, body: JSON.stringify(await signedCertificate(world, cb.key, cb.slug, number)) });
  if (issued.status !== 201) throw new Error(`setup: issuing ${number}: ${issued.status} ${issued.text}`);
  const key = await newCbKey(cb.slug, fresh(world, 'spare'));
  const added = await send(world.target, 'POST', `/api/v1/issuers/${cb.slug}/keys`, { key: world.operator, body: JSON.stringify({ keyId: key.keyId, publicKeyMultibase: key.publicKeyMultibase }) });
  if (added.status !== 201) throw new Error(`setup: adding ${key.keyId}: ${added.status} ${added.text}`);
  return { issuer: cb.slug, number, newNumber: fresh(world, 'MX'), keyId: key.keyId };
}

export interface MatrixSummary {
  operations: number;
  cells: number;
  refusals: number;
  controls: number;
  /** Tree size comparisons around refusals (all must be equal). */
  treeChecks: number;
  violations: string[];
  byActor: Record<string, Record<string, number>>;
  elapsedMs: number;
}

async function setUp(target: Target): Promise<World> {
  const world: World = { target, operator: operatorKey(target), serial: 0, cbs: {} as Record<Owner, Cb> };
  for (const [owner, slug] of [['a', 'alpha-cert'], ['b', 'beta-cert']] as const) {
    const key = await newCbKey(slug, 'key-1');
    const revoked = await newCbKey(slug, 'key-2');
    const registered = await registerCb(target, slug, [key, revoked], true);
    if (registered.status !== 201) throw new Error(`setup: registering ${slug}: ${registered.status}`);
    const revocation = await send(target, 'POST', `/api/v1/issuers/${slug}/keys/key-2/revoke`, { key: world.operator, body: '{"reason":"rotated"}' });
    if (revocation.status !== 201) throw new Error(`setup: revoking key-2 of ${slug}: ${revocation.status}`);
    world.cbs[owner] = { slug, key, revoked };
  }
  return world;
}

export async function runMatrix(target: Target, options: { rounds?: number } = {}): Promise<MatrixSummary> {
  const started = performance.now();
  const rows = planMatrix(await writeOperations(target));
  const world = await setUp(target);
  const summary: MatrixSummary = { operations: rows.length, cells: 0, refusals: 0, controls: 0, treeChecks: 0, violations: [], byActor: {}, elapsedMs: 0 };
  const count = (actor: Actor, status: number) => {
    const row = (summary.byActor[actor] ??= {});
    row[status] = (row[status] ?? 0) + 1;
  };
  for (let round = 0; round < (options.rounds ?? 1); round++) {
    for (const { op, variants } of rows) {
      for (const owner of ['a', 'b'] as const) {
        for (const variant of variants) {
          const object = await prepareObject(world, owner);
          const path = fillPath(op.path, object as unknown as Record<string, string>);
          const request = async (actor: Actor, body: JsonObject): Promise<Raw> => {
            const auth = await authorization(world, op, owner, actor);
            const headers: Record<string, string> = op.parameters.some((p) => p.name === 'Idempotency-Key') ? { 'idempotency-key': randomUUID() } : {};
            return send(target, op.method, path, { body: JSON.stringify(body), headers, ...(auth === undefined ? {} : { authorization: auth }) });
          };
          const label = (actor: Actor) => `${op.operationId} [${variant.name}] on ${object.issuer}'s object by ${actor}`;
          for (const actor of ACTORS) {
            const expected = expectedOutcome(op, owner, actor);
            if (expected.allowed && op.scheme !== null) continue; // the control, below
            const body = await variant.body(world, owner, object, actor);
            const before = await treeSize(target);
            const res = await request(actor, body);
            const after = await treeSize(target);
            summary.cells++;
            summary.treeChecks++;
            count(actor, res.status);
            if (!expected.statuses.includes(res.status)) {
              summary.violations.push(`${label(actor)}: ${res.status}, expected ${expected.statuses.join('/')} (${res.text.slice(0, 160)})`);
            } else if (!expected.allowed) {
              summary.refusals++;
              const problem = JSON.parse(res.text) as { code?: string };
              if (res.contentType !== 'application/problem+json' || problem.code !== CODE[res.status]) {
                summary.violations.push(`${label(actor)}: refused without the ${CODE[res.status]} problem (${res.text.slice(0, 160)})`);
              }
            }
            if (after !== before) summary.violations.push(`${label(actor)}: the tree grew from ${before} to ${after}`);
          }
          if (!variant.control || op.scheme === null) continue;
          const actor = rightfulActor(op, owner);
          const before = await treeSize(target);
          const res = await request(actor, await variant.body(world, owner, object, actor));
          summary.cells++;
          summary.controls++;
          count(actor, res.status);
          if (res.status !== 201) summary.violations.push(`${label(actor)} (control): ${res.status} (${res.text.slice(0, 200)})`);
          else if ((await treeSize(target)) <= before) summary.violations.push(`${label(actor)} (control): acknowledged but the tree did not grow`);
        }
      }
    }
  }
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}

export function summaryLine(s: MatrixSummary): string {
  return (
    `authz-matrix: ${s.operations} operations, ${s.cells} cells (${s.refusals} refusals, ${s.controls} rightful controls), ` +
    `${s.treeChecks} tree-size checks; violations ${s.violations.length}; ${(s.elapsedMs / 1000).toFixed(1)} s`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, short: { type: 'boolean' }, json: { type: 'boolean' } } });
  const server = await startRegistryProcess();
  let summary: MatrixSummary;
  try {
    summary = await runMatrix(server, { rounds: values.short ? 1 : Number(values.rounds) });
    if (server.unexpectedErrors() > 0) summary.violations.push(`the server logged ${server.unexpectedErrors()} unexpected errors`);
  } finally {
    await server.stop();
  }
  for (const v of summary.violations.slice(0, 50)) console.error(`VIOLATION ${v}`);
  console.log(values.json ? JSON.stringify(summary) : summaryLine(summary));
  process.exit(summary.violations.length === 0 ? 0 : 1);
}
