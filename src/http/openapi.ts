// The OpenAPI 3.1 description of every route the app serves (/openapi.json) and its server-rendered reading (/docs).
// Request and response bodies are zod schemas converted with zod 4's own JSON Schema generator (draft 2020-12, the
// dialect of OpenAPI 3.1): those of the signed documents are generated from src/core/credential.ts's definitions
// (src/http/document-schemas.ts), the rest are declared here against the types they describe (Receipt, Verdict, the
// views). The operation table below is hand-kept next to the routes in app.ts, api-routes.ts and log-routes.ts;
// test/http/openapi.test.ts fails when a served route is missing here or a documented one is not served. Both
// documents are built once per base URL and cached.
import { z } from 'zod';
import { partial } from 'zod/mini';
import { CERT_NUMBER, ISSUER_SLUG, KEY_ID } from '../core/credential.js';
import {
  accreditationSchema,
  certificateDraftSchema,
  certificateIdSchema,
  certificateSchema,
  dataIntegrityProofSchema,
  dateTimeSchema,
  issuerIdSchema,
  issuerKeyAddedSchema,
  issuerKeyRevokedSchema,
  issuerRegistrationSchema,
  keyIdSchema,
  multikeySchema,
  sha256DigestSchema,
  statusEventDraftSchema,
  statusEventSchema,
} from './document-schemas.js';
import { BUNDLE_MEDIA_TYPE, MAX_BUNDLE_ENTRIES } from '../core/bundle.js';
import { ENTRY_KINDS } from '../core/entry.js';
import type { CheckName } from '../core/verdict.js';
import type { CertificateStatus, SurveillanceState } from '../core/status.js';
import { MAX_TOKEN_LIFETIME_S, OPERATOR } from './auth.js';
import { MAX_BATCH_BYTES, MAX_DOCUMENT_BYTES } from './body.js';
import { PROBLEM_CODES, PROBLEM_STATUS, type ProblemCode } from './problem.js';
import type { RegistryErrorCode } from '../core/errors.js';
import { MAX_BATCH, MAX_PAGE } from '../registry/views.js';

// ---------------------------------------------------------------------------------------------------------------
// Response and request schemas (those of the signed documents come from src/http/document-schemas.ts)
//
// The document schemas are zod mini schemas (no methods such as `.optional()` or `.describe()`): they are
// wrapped with the functional forms (`z.optional(s)`, `z.nullable(s)`, `described(s, ...)`), which build the same
// schemas the methods would. Classic and mini schemas share zod's core, so they nest and convert together.

/** The classic `.describe()` for a mini schema: a copy registered with its description. */
function described<T extends z.core.$ZodType>(schema: T, description: string): T {
  const copy = z.core.clone(schema);
  z.globalRegistry.add(copy, { description });
  return copy;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const millis = z.int().min(0).describe('milliseconds since the Unix epoch');
const url = z.string().describe('an absolute URL');
const STATUSES = ['active', 'suspended', 'revoked', 'expired', 'not-yet-valid'] as const satisfies readonly CertificateStatus[];
const SURVEILLANCE = ['current', 'due', 'overdue'] as const satisfies readonly SurveillanceState[];
const CHECK_NAMES = [
  'checkpoint',
  'witnesses',
  'signature',
  'issuer-key',
  'logged',
  'events',
  'status',
  'validity',
  'surveillance',
] as const satisfies readonly CheckName[];

// Compile-time completeness: adding a status, surveillance state or check name without listing it here fails tsc.
type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const exhaustive: [
  Exhaustive<CertificateStatus, (typeof STATUSES)[number]>,
  Exhaustive<SurveillanceState, (typeof SURVEILLANCE)[number]>,
  Exhaustive<CheckName, (typeof CHECK_NAMES)[number]>,
] = [true, true, true];
void exhaustive;

const problemSchema = z.object({
  type: z.string().describe('`/problems/<code>`'),
  title: z.string(),
  status: z.int(),
  code: z.enum(PROBLEM_CODES as [ProblemCode, ...ProblemCode[]]).describe('stable, machine-readable error code'),
  detail: z.string(),
});

const receiptSchema = z.object({
  id: url.describe('the certificate id (its verify URL) for certificate entries; the issuer id for issuer entries'),
  verifyUrl: url.optional().describe('present for certificate entries'),
  kind: z.enum(ENTRY_KINDS),
  index: z.int().min(0).describe('the log index of the entry'),
  loggedAt: millis,
  leafHash: hex64.describe('RFC 6962 leaf hash of the entry, hex'),
  tlogProof: z.string().describe('C2SP tlog-proof of the entry against `checkpoint`'),
  checkpoint: z.string().describe('the signed checkpoint (C2SP signed note) that first included the entry'),
});

const checkSchema = z.object({ name: z.enum(CHECK_NAMES), ok: z.boolean(), detail: z.string() });

const verdictShape = {
  valid: z.boolean().describe('signature, issuer key valid at loggedAt, logged, active, inside validity, surveillance not overdue'),
  status: z.enum(STATUSES).nullable().describe('null when the certificate could not be read far enough to have a status'),
  surveillance: z.enum(SURVEILLANCE).nullable().describe('due = within 30 days; overdue = past the due date'),
  surveillanceDue: z.string().nullable(),
  validFrom: z.string().nullable(),
  validUntil: z.string().nullable(),
  checks: z.array(checkSchema),
};
const verdictSchema = z.object(verdictShape);

const lifecycleNote = z.object({ reason: z.string(), effective: z.string(), loggedAt: millis });
const certificateStateSchema = z.object({
  status: z.enum(STATUSES),
  surveillance: z.enum(SURVEILLANCE),
  surveillanceDue: z.string(),
  validFrom: z.string(),
  validUntil: z.string(),
  scope: z.string(),
  revoked: lifecycleNote.optional(),
  suspended: lifecycleNote.optional(),
});

const loggedEntryShape = { index: z.int().min(0), loggedAt: millis, leafHash: hex64 };
const certificateViewSchema = z.object({
  id: certificateIdSchema,
  verifyUrl: certificateIdSchema,
  issuer: z.string().describe('issuer slug'),
  number: z.string(),
  status: z.enum(STATUSES),
  issued: z.object(loggedEntryShape),
  credential: certificateSchema,
  events: z.array(z.object({ ...loggedEntryShape, event: statusEventSchema })),
  state: certificateStateSchema,
  verdict: verdictSchema,
});

const bundleSchema = z.object({
  mediaType: z.literal(BUNDLE_MEDIA_TYPE),
  certificate: described(certificateIdSchema, 'the certificate id (verify URL) the bundle is about'),
  checkpoint: z.string().describe('the signed checkpoint, with any witness cosignatures'),
  entries: z
    .array(
      z.object({
        index: z.int().min(0),
        entry: z.string().describe("the entry's exact bytes, standard base64"),
        tlogProof: z.string().describe("C2SP tlog-proof of the entry against the bundle's checkpoint"),
      }),
    )
    .max(MAX_BUNDLE_ENTRIES)
    .describe("in log order: the issuer's registration and key entries, the issuance and every status event"),
});

const certificateSummarySchema = z.object({
  id: certificateIdSchema,
  issuer: z.string(),
  number: z.string(),
  organization: z.string(),
  system: z.string(),
  status: z.enum(STATUSES).nullable(),
  surveillance: z.enum(SURVEILLANCE).nullable(),
  valid: z.boolean(),
});

const searchPageSchema = z.object({
  items: z.array(certificateSummarySchema),
  next: z.string().nullable().describe('the cursor of the next page; null on the last page'),
});

const modelCertificatesSchema = z.object({ digest: sha256DigestSchema, certificates: z.array(certificateSummarySchema) });

const verifyItemSchema = z.union([
  described(certificateIdSchema, 'a certificate id (verify URL) of this registry'),
  certificateSchema,
]);
const verifyRequestSchema = z.union([
  z.object({ items: z.array(verifyItemSchema).max(MAX_BATCH) }),
  z.array(verifyItemSchema).max(MAX_BATCH),
]);
const verifyResponseSchema = z.object({
  results: z.array(z.object({ id: z.string().nullable(), verdict: verdictSchema })).describe('one per item, in order'),
});

const verifyPageSchema = z.object({ id: certificateIdSchema, issuer: z.string(), number: z.string(), ...verdictShape });

const issuerSummarySchema = z.object({
  id: issuerIdSchema,
  slug: z.string(),
  name: z.string(),
  managedSigning: z.boolean(),
  registeredAt: dateTimeSchema,
});
const issuerListSchema = z.object({ issuers: z.array(issuerSummarySchema) });

const issuerKeySchema = z.object({
  keyId: keyIdSchema,
  publicKeyMultibase: multikeySchema,
  addedAt: dateTimeSchema,
  addedIndex: z.int().min(0),
  revokedAt: z.nullable(dateTimeSchema),
  compromisedAt: z.nullable(dateTimeSchema),
  validUntil: z.nullable(dateTimeSchema).describe('entries logged from then on under this key are invalid'),
  status: z.enum(['active', 'revoked']),
});
const issuerProfileSchema = z.object({
  id: issuerIdSchema,
  slug: z.string(),
  name: z.string(),
  managedSigning: z.boolean(),
  registration: z.object({ index: z.int().min(0), loggedAt: millis, document: issuerRegistrationSchema }),
  keys: z.array(issuerKeySchema),
});

const jwksSchema = z.object({
  keys: z.array(
    z.object({
      kty: z.literal('OKP'),
      crv: z.literal('Ed25519'),
      x: z.string().describe('base64url public key'),
      kid: z.string(),
      alg: z.literal('EdDSA'),
      use: z.literal('sig'),
    }),
  ),
});

const didDocumentSchema = z.object({
  '@context': z.array(z.string()),
  id: z.string().describe('did:web:<host>:issuers:<slug>'),
  alsoKnownAs: z.array(url),
  verificationMethod: z.array(
    z.object({ id: z.string(), type: z.literal('Multikey'), controller: z.string(), publicKeyMultibase: multikeySchema }),
  ),
  assertionMethod: z.array(z.string()),
  authentication: z.array(z.string()),
});

const wellKnownSchema = z.object({
  origin: z.string().describe('the checkpoint origin line'),
  logVerifierKey: z.string().describe('the C2SP note verifier key of the log'),
  registryKey: z.string().describe('the registry key (signs issuer documents and operator tokens), as Multikey'),
  baseUrl: url,
  apiBase: url,
  checkpoint: url,
  tiles: url,
  witnesses: z
    .array(
      z.object({
        vkey: z.string().describe('the witness\'s C2SP cosignature/v1 verifier key (type 0x04)'),
        url: url.describe('the witness\'s tlog-witness submission prefix (POST <url>/add-checkpoint)'),
      }),
    )
    .describe('the witnesses the log asks to cosign each checkpoint; the served checkpoint carries their cosignatures'),
  quorum: z
    .int()
    .min(0)
    .describe('how many of the witnesses must have cosigned a checkpoint for verifiers to accept it (verifyBundle policy.quorum)'),
});

const healthSchema = z.object({
  ok: z.boolean(),
  size: z.int().min(0).describe('the current tree size'),
  writes: z.enum(['accepted', 'refused']),
  reason: z.string().optional().describe('why writes are refused'),
});

const consistencyProofSchema = z.object({
  from: z.int().min(0),
  to: z.int().min(0),
  proof: z.array(z.string()).describe('RFC 6962 consistency proof hashes, base64'),
});

const certificateSubmissionSchema = z.union([certificateSchema, certificateDraftSchema]);

// A posted event draft may leave out what the registry fills in: `type`, `certificate` and `previous` (the chain head).
const registryFilled = { type: true, certificate: true, previous: true } as const;
const [suspended, reinstated, revoked, audit, recertified, scopeChanged] = statusEventDraftSchema.def.options;
const statusEventDraftRequestSchema = z.discriminatedUnion('kind', [
  partial(suspended, registryFilled),
  partial(reinstated, registryFilled),
  partial(revoked, registryFilled),
  partial(audit, registryFilled),
  partial(recertified, registryFilled),
  partial(scopeChanged, registryFilled),
]);
const eventSubmissionSchema = z.union([statusEventSchema, statusEventDraftRequestSchema]);

const newKeySchema = z.object({ keyId: keyIdSchema, publicKeyMultibase: multikeySchema });
const registerIssuerSchema = z.object({
  slug: z.string().regex(ISSUER_SLUG).describe('the issuer slug; `registry` and other reserved slugs are refused'),
  name: z.string(),
  accreditation: z.optional(accreditationSchema),
  managedSigning: z.boolean().optional().describe('the registry holds a key of this issuer and signs drafts (opt-in)'),
  keys: z.array(newKeySchema).optional().describe('required (at least one) without managed signing'),
});
const registerIssuerResponseSchema = z.object({ receipts: z.array(receiptSchema) });
const revokeKeySchema = z.object({
  reason: z.string(),
  compromisedAt: z.optional(dateTimeSchema).describe('entries logged under the key from then on are invalid; not in the future'),
});

/** Every named schema of components.schemas, with its description. */
const COMPONENTS = {
  Problem: [problemSchema, 'RFC 9457 problem details (application/problem+json) with a stable `code`.'],
  Receipt: [receiptSchema, 'What a write returns, and what a retry with the same Idempotency-Key returns again.'],
  Check: [checkSchema, 'One named check of a verdict.'],
  Verdict: [verdictSchema, 'The verdict every verifier returns: named checks, and `valid` only when all pass.'],
  CertificateState: [certificateStateSchema, 'Status as a pure function of the certificate, its logged events and now.'],
  CertificateView: [certificateViewSchema, 'A certificate with its events, state and verdict.'],
  Bundle: [bundleSchema, 'The offline bundle of a certificate: its logged entries with tlog-proofs against one checkpoint.'],
  CertificateSummary: [certificateSummarySchema, 'A certificate in search results and model lookups.'],
  SearchPage: [searchPageSchema, 'A page of search results in issuance order.'],
  ModelCertificates: [modelCertificatesSchema, 'Certificates that cover a model digest.'],
  VerifyRequest: [verifyRequestSchema, `Up to ${MAX_BATCH} certificate ids or credentials, as \`{items}\` or a bare array.`],
  VerifyResponse: [verifyResponseSchema, 'One verdict per item.'],
  VerifyPage: [verifyPageSchema, 'The verdict of a certificate, with its id.'],
  IssuerSummary: [issuerSummarySchema, 'A registered certification body.'],
  IssuerList: [issuerListSchema, 'All registered certification bodies.'],
  IssuerKey: [issuerKeySchema, 'A signing key of a certification body and its history.'],
  IssuerProfile: [issuerProfileSchema, 'A certification body with its logged registration and keys.'],
  Jwks: [jwksSchema, 'RFC 7517 JSON Web Key Set of the unrevoked keys (Ed25519, EdDSA).'],
  DidDocument: [didDocumentSchema, 'did:web document of an issuer; its unrevoked keys as Multikey.'],
  WellKnown: [wellKnownSchema, 'Discovery: origin, log verifier key, registry key and URLs.'],
  Health: [healthSchema, 'Liveness and whether the log accepts writes.'],
  ConsistencyProof: [consistencyProofSchema, 'A consistency proof between two tree sizes.'],
  Certificate: [certificateSchema, 'A signed certificate: a W3C VC 2.0 with an eddsa-jcs-2022 Data Integrity proof.'],
  CertificateDraft: [certificateDraftSchema, 'An unsigned certificate for managed signing; @context, id, type and issuer may be left out.'],
  CertificateSubmission: [certificateSubmissionSchema, 'A signed certificate, or a draft for managed signing.'],
  StatusEvent: [statusEventSchema, 'A signed certificate status event, chained to the previous log entry.'],
  StatusEventDraft: [
    statusEventDraftRequestSchema,
    'An unsigned status event for managed signing; the registry fills `type`, `certificate` and `previous`.',
  ],
  EventSubmission: [eventSubmissionSchema, 'A signed status event, or a draft for managed signing.'],
  DataIntegrityProof: [dataIntegrityProofSchema, 'A Data Integrity proof with the eddsa-jcs-2022 cryptosuite.'],
  Accreditation: [accreditationSchema, 'The accreditation of a certification body.'],
  IssuerRegistration: [issuerRegistrationSchema, "A certification body's registration, signed by the registry key."],
  IssuerKeyAdded: [issuerKeyAddedSchema, 'A key added to an issuer (log entry body), signed by the registry key.'],
  IssuerKeyRevoked: [issuerKeyRevokedSchema, "An issuer key's revocation (log entry body), signed by the registry key."],
  RegisterIssuerRequest: [registerIssuerSchema, 'A certification body to register, with its keys.'],
  RegisterIssuerResponse: [registerIssuerResponseSchema, 'The receipts of the registration and of each key.'],
  NewKey: [newKeySchema, 'An Ed25519 public key of a certification body.'],
  RevokeKeyRequest: [revokeKeySchema, 'Why a key is revoked; compromisedAt for a compromise (not a rotation).'],
} as const satisfies Record<string, readonly [z.core.$ZodType, string]>;

type ComponentName = keyof typeof COMPONENTS;

// ---------------------------------------------------------------------------------------------------------------
// The document's types (the subset of OpenAPI 3.1 used here)

export type JsonSchema = { [key: string]: unknown };

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description: string;
  schema: JsonSchema;
}

export interface MediaTypeObject {
  schema?: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, MediaTypeObject>;
  /** The problem codes this response carries (problem+json responses only). */
  'x-problem-codes'?: ProblemCode[];
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: ParameterObject[];
  requestBody?: {
    description: string;
    required: true;
    content: Record<string, MediaTypeObject>;
    /** The hard limit on the body, in bytes. */
    'x-max-body-bytes': number;
  };
  responses: Record<string, ResponseObject>;
}

export type HttpMethod = 'get' | 'post';

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: { title: string; version: string; summary: string; description: string; license: { name: string; identifier: string } };
  servers: Array<{ url: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Partial<Record<HttpMethod, OperationObject>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; bearerFormat: 'JWT'; description: string }>;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

const TAGS = {
  log: 'The append-only Merkle log, as C2SP tlog-tiles: readable by existing tlog clients and witnesses.',
  certificates: 'Certificates: reading, searching and batch verification (public); issuing and status events (CBs).',
  issuers: 'Certification bodies: profiles, DID documents, JWKS (public); registration and keys (operator).',
  registry: 'Discovery, health and this description.',
  pages: 'Pages for people (HTML, no account needed) and their assets. Error statuses are the same as the JSON routes; browsers get them as HTML pages.',
} as const;
type Tag = keyof typeof TAGS;

type ParamSpec = { name: string; in: ParameterObject['in']; description: string; schema: z.core.$ZodType; required?: boolean };

const issuerParam: ParamSpec = { name: 'issuer', in: 'path', description: 'issuer slug', schema: z.string().regex(ISSUER_SLUG) };
const numberParam: ParamSpec = { name: 'number', in: 'path', description: 'certificate number', schema: z.string().regex(CERT_NUMBER) };
const keyIdParam: ParamSpec = { name: 'keyId', in: 'path', description: 'key id', schema: z.string().regex(KEY_ID) };
const tileIndexParam: ParamSpec = {
  name: 'N',
  in: 'path',
  description:
    'the tile index in C2SP tlog-tiles form, which spans path segments (not percent-encoded): zero-padded 3-digit ' +
    'elements, all but the last prefixed with `x` (e.g. `x001/234`), then `.p/{W}` for a partial tile of width W (1..255)',
  schema: z.string().regex(/^(?:x[0-9]{3}\/)*[0-9]{3}(?:\.p\/[1-9][0-9]{0,2})?$/),
};
const sizeParam = (name: string, description: string): ParamSpec => ({
  name,
  in: 'query',
  description,
  required: true,
  schema: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});
const searchText = (name: string, description: string): ParamSpec => ({ name, in: 'query', description, schema: z.string().max(256) });
const idempotencyParam: ParamSpec = {
  name: 'Idempotency-Key',
  in: 'header',
  description:
    'Makes the write safe to retry: a retry with the same key and body returns the same receipt, byte for byte; ' +
    'the same key with a different body is a `conflict`.',
  schema: z.string().regex(/^[\x21-\x7e]{1,128}$/),
};

type OkSpec = {
  status: 200 | 201;
  description: string;
  type?: string;
  schema: ComponentName | JsonSchema;
  cache?: string;
  /** Further representations of the same resource, chosen by the Accept header (e.g. the HTML page of a verdict). */
  alternatives?: Record<string, JsonSchema>;
};

interface OperationSpec {
  method: HttpMethod;
  path: string;
  id: string;
  tag: Tag;
  summary: string;
  description?: string;
  auth?: 'certificationBody' | 'operator';
  params?: ParamSpec[];
  body?: { schema: ComponentName; limit: number; description: string };
  ok: OkSpec;
  /** The problem codes besides 'internal', which every operation may return. */
  errors: RegistryErrorCode[];
}

const WRITE_ERRORS: RegistryErrorCode[] = [
  'bad-request',
  'bad-json',
  'unauthorized',
  'forbidden',
  'conflict',
  'payload-too-large',
  'entry-too-large',
  'unsupported-media-type',
  'log-integrity',
  'unavailable',
  'rate-limited',
];

const BINARY: JsonSchema = { type: 'string', contentMediaType: 'application/octet-stream' };
const TEXT: JsonSchema = { type: 'string' };
const HTML: JsonSchema = { type: 'string', contentMediaType: 'text/html' };
const JSON_OBJECT: JsonSchema = { type: 'object', description: 'this OpenAPI 3.1 document' };

const kib = (bytes: number): string => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`);

const OPERATIONS: readonly OperationSpec[] = [
  // --- log ---
  {
    method: 'get',
    path: '/log/checkpoint',
    id: 'getCheckpoint',
    tag: 'log',
    summary: 'The signed checkpoint',
    description: 'The latest checkpoint as a C2SP signed note (origin, tree size, root hash), cached for a few seconds.',
    ok: { status: 200, description: 'the checkpoint note', type: 'text/plain; charset=utf-8', schema: TEXT, cache: 'public, max-age=2' },
    errors: [],
  },
  {
    method: 'get',
    path: '/log/tile/{L}/{N}',
    id: 'getHashTile',
    tag: 'log',
    summary: 'A hash tile',
    description: 'A C2SP tlog-tiles hash tile at level L. Full tiles are immutable; partial tiles are cached briefly.',
    params: [
      { name: 'L', in: 'path', description: 'the tile level, 0 to 63 with no leading zeroes', schema: z.int().min(0).max(63) },
      tileIndexParam,
    ],
    ok: { status: 200, description: 'the tile: concatenated 32-byte hashes', type: 'application/octet-stream', schema: BINARY },
    errors: ['bad-request', 'bad-range', 'not-found', 'log-integrity'],
  },
  {
    method: 'get',
    path: '/log/tile/entries/{N}',
    id: 'getEntryBundle',
    tag: 'log',
    summary: 'An entry bundle',
    description: 'A C2SP tlog-tiles entry bundle: entries prefixed with their uint16 big-endian length.',
    params: [tileIndexParam],
    ok: { status: 200, description: 'the entry bundle', type: 'application/octet-stream', schema: BINARY },
    errors: ['bad-request', 'bad-range', 'not-found', 'log-integrity'],
  },
  {
    method: 'get',
    path: '/log/proof/consistency',
    id: 'getConsistencyProof',
    tag: 'log',
    summary: 'A consistency proof between two tree sizes',
    params: [sizeParam('from', 'the older tree size (at least 1)'), sizeParam('to', 'the newer tree size, at most the current size')],
    ok: { status: 200, description: 'the proof', schema: 'ConsistencyProof', cache: 'public, max-age=31536000, immutable' },
    errors: ['bad-range', 'log-integrity'],
  },
  // --- registry ---
  {
    method: 'get',
    path: '/.well-known/certrail',
    id: 'getWellKnown',
    tag: 'registry',
    summary: 'Discovery document',
    description: 'The log origin and verifier key, the registry key, the witness policy (witness verifier keys and URLs, quorum) and the API base.',
    ok: { status: 200, description: 'the discovery document', schema: 'WellKnown', cache: 'public, max-age=300' },
    errors: [],
  },
  {
    method: 'get',
    path: '/healthz',
    id: 'getHealth',
    tag: 'registry',
    summary: 'Health',
    ok: { status: 200, description: 'the tree size and whether writes are accepted', schema: 'Health', cache: 'no-store' },
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    id: 'getOpenApi',
    tag: 'registry',
    summary: 'This OpenAPI 3.1 document',
    ok: { status: 200, description: 'the OpenAPI document', schema: JSON_OBJECT },
    errors: [],
  },
  {
    method: 'get',
    path: '/docs',
    id: 'getDocs',
    tag: 'registry',
    summary: 'This API reference as HTML',
    ok: { status: 200, description: 'the reference page', type: 'text/html; charset=utf-8', schema: HTML },
    errors: [],
  },
  // --- certificates ---
  {
    method: 'get',
    path: '/v/{issuer}/{number}',
    id: 'verifyCertificate',
    tag: 'certificates',
    summary: 'Verify a certificate (the certificate id is this URL)',
    description:
      'The verdict of the certificate named by its verify URL, as JSON. A client whose `Accept` prefers `text/html` ' +
      '(every browser) gets the verify page instead, which verifies the offline bundle in the browser; an unknown ' +
      'certificate is then a 404 HTML page. Responses vary on `Accept`.',
    params: [issuerParam, numberParam],
    ok: {
      status: 200,
      description: 'the verdict (JSON), or the verify page (HTML) for browsers',
      schema: 'VerifyPage',
      cache: 'no-cache',
      alternatives: { 'text/html; charset=utf-8': HTML },
    },
    errors: ['not-found', 'log-integrity'],
  },
  {
    method: 'post',
    path: '/api/v1/certificates',
    id: 'issueCertificate',
    tag: 'certificates',
    summary: 'Issue a certificate',
    description:
      'A certification body logs a certificate it signed, or, with managed signing, a draft the registry signs with ' +
      "the CB's managed key. The certificate must name the acting CB as issuer. Returns the receipt; `Location` is the " +
      'certificate id.',
    auth: 'certificationBody',
    params: [idempotencyParam],
    body: { schema: 'CertificateSubmission', limit: MAX_DOCUMENT_BYTES, description: 'a signed certificate or a draft' },
    ok: { status: 201, description: 'logged; the receipt', schema: 'Receipt' },
    errors: [...WRITE_ERRORS, 'bad-signature'],
  },
  {
    method: 'post',
    path: '/api/v1/certificates/{issuer}/{number}/events',
    id: 'recordEvent',
    tag: 'certificates',
    summary: 'Record a status event',
    description:
      'Suspension, reinstatement, revocation, surveillance audit, recertification or scope change of one of the ' +
      "acting CB's own certificates: a signed event chained to the certificate's last entry, or a draft for managed signing.",
    auth: 'certificationBody',
    params: [issuerParam, numberParam, idempotencyParam],
    body: { schema: 'EventSubmission', limit: MAX_DOCUMENT_BYTES, description: 'a signed status event or a draft' },
    ok: { status: 201, description: 'logged; the receipt', schema: 'Receipt' },
    errors: [...WRITE_ERRORS, 'bad-signature', 'not-found'],
  },
  {
    method: 'get',
    path: '/api/v1/certificates/{issuer}/{number}',
    id: 'getCertificate',
    tag: 'certificates',
    summary: 'A certificate with its events, status and verdict',
    params: [issuerParam, numberParam],
    ok: { status: 200, description: 'the certificate', schema: 'CertificateView', cache: 'no-cache' },
    errors: ['not-found', 'log-integrity'],
  },
  {
    method: 'get',
    path: '/api/v1/certificates/{issuer}/{number}/bundle',
    id: 'getBundle',
    tag: 'certificates',
    summary: 'The offline bundle of a certificate',
    description:
      "Everything needed to verify the certificate offline: its issuer's registration and key entries, its issuance " +
      'and events, each as the logged bytes with a tlog-proof against the current checkpoint.',
    params: [issuerParam, numberParam],
    ok: { status: 200, description: 'the bundle', type: BUNDLE_MEDIA_TYPE, schema: 'Bundle', cache: 'no-cache' },
    errors: ['not-found', 'log-integrity'],
  },
  {
    method: 'get',
    path: '/api/v1/certificates',
    id: 'searchCertificates',
    tag: 'certificates',
    summary: 'Search certificates',
    description:
      'Pages in issuance order. Time-dependent statuses are filtered after computing status, so a page may hold ' +
      'fewer than `limit` items; follow `next` until it is null.',
    params: [
      searchText('issuer', 'issuer slug'),
      searchText('standard', 'a standard the certificate covers'),
      searchText('q', 'free text over organization and system names'),
      { name: 'status', in: 'query', description: 'only certificates with this status', schema: z.enum(STATUSES) },
      {
        name: 'limit',
        in: 'query',
        description: `page size, 1 to ${MAX_PAGE}`,
        schema: z.int().min(1).max(MAX_PAGE).default(50),
      },
      { name: 'cursor', in: 'query', description: '`next` of the previous page', schema: z.string() },
    ],
    ok: { status: 200, description: 'a page of results', schema: 'SearchPage' },
    errors: ['bad-request', 'log-integrity'],
  },
  {
    method: 'post',
    path: '/api/v1/verify',
    id: 'verifyBatch',
    tag: 'certificates',
    summary: 'Verify a batch of certificates',
    description:
      `Up to ${MAX_BATCH} certificate ids or credentials in one request. An item that is not a certificate gets a ` +
      'failing verdict, not an error. A credential that is not logged here is checked against the registered keys.',
    body: { schema: 'VerifyRequest', limit: MAX_BATCH_BYTES, description: `at most ${MAX_BATCH} items` },
    ok: { status: 200, description: 'one verdict per item, in order', schema: 'VerifyResponse' },
    errors: ['bad-request', 'bad-json', 'payload-too-large', 'unsupported-media-type', 'log-integrity'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{digest}/certificates',
    id: 'certificatesByModel',
    tag: 'certificates',
    summary: 'Certificates that cover a model digest',
    params: [{ name: 'digest', in: 'path', description: 'OpenSSF model-signing digest', schema: sha256DigestSchema }],
    ok: { status: 200, description: `at most ${MAX_PAGE} certificates with their status`, schema: 'ModelCertificates' },
    errors: ['bad-request', 'log-integrity'],
  },
  // --- issuers ---
  {
    method: 'get',
    path: '/api/v1/issuers',
    id: 'listIssuers',
    tag: 'issuers',
    summary: 'All certification bodies',
    ok: { status: 200, description: 'the issuers', schema: 'IssuerList' },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/v1/issuers/{issuer}',
    id: 'getIssuer',
    tag: 'issuers',
    summary: 'A certification body with its registration and keys',
    params: [issuerParam],
    ok: { status: 200, description: 'the issuer', schema: 'IssuerProfile' },
    errors: ['not-found', 'log-integrity'],
  },
  {
    method: 'get',
    path: '/api/v1/issuers/{issuer}/jwks.json',
    id: 'getIssuerJwks',
    tag: 'issuers',
    summary: "The issuer's unrevoked keys as a JWKS",
    params: [issuerParam],
    ok: { status: 200, description: 'the key set', schema: 'Jwks' },
    errors: ['not-found'],
  },
  {
    method: 'get',
    path: '/issuers/{issuer}/did.json',
    id: 'getIssuerDid',
    tag: 'issuers',
    summary: "The issuer's did:web document",
    params: [issuerParam],
    ok: { status: 200, description: 'the DID document', schema: 'DidDocument' },
    errors: ['not-found'],
  },
  {
    method: 'post',
    path: '/api/v1/issuers',
    id: 'registerIssuer',
    tag: 'issuers',
    summary: 'Register a certification body (operator)',
    description: 'Logs the registration and each key, signed by the registry key.',
    auth: 'operator',
    body: { schema: 'RegisterIssuerRequest', limit: MAX_DOCUMENT_BYTES, description: 'the certification body' },
    ok: { status: 201, description: 'logged; one receipt per entry', schema: 'RegisterIssuerResponse' },
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    path: '/api/v1/issuers/{issuer}/keys',
    id: 'addIssuerKey',
    tag: 'issuers',
    summary: 'Add a key to a certification body (operator)',
    auth: 'operator',
    params: [issuerParam],
    body: { schema: 'NewKey', limit: MAX_DOCUMENT_BYTES, description: 'the key' },
    ok: { status: 201, description: 'logged; the receipt', schema: 'Receipt' },
    errors: [...WRITE_ERRORS, 'not-found'],
  },
  {
    method: 'post',
    path: '/api/v1/issuers/{issuer}/keys/{keyId}/revoke',
    id: 'revokeIssuerKey',
    tag: 'issuers',
    summary: 'Revoke a key of a certification body (operator)',
    description:
      'Without `compromisedAt` the key stops being valid from this entry on (a rotation); with it, entries logged ' +
      'under the key from that time on become invalid.',
    auth: 'operator',
    params: [issuerParam, keyIdParam],
    body: { schema: 'RevokeKeyRequest', limit: MAX_DOCUMENT_BYTES, description: 'the reason' },
    ok: { status: 201, description: 'logged; the receipt', schema: 'Receipt' },
    errors: [...WRITE_ERRORS, 'not-found'],
  },
  // --- pages ---
  {
    method: 'get',
    path: '/',
    id: 'getLandingPage',
    tag: 'pages',
    summary: 'The landing page',
    description: 'Search, the latest certificates and the registered certification bodies.',
    ok: { status: 200, description: 'the page', type: 'text/html; charset=utf-8', schema: HTML, cache: 'no-cache' },
    errors: ['log-integrity'],
  },
  {
    method: 'get',
    path: '/search',
    id: 'searchPage',
    tag: 'pages',
    summary: 'Search certificates (HTML)',
    description:
      'By certificate number, organization or system name (substring), a standard (exact id) or a model digest ' +
      '(`sha256:<hex>`, which the page can compute in the browser from a dropped model file or folder). Results show ' +
      "the registry's status badge. Malformed parameters are reported on the page, not as errors.",
    params: [
      searchText('q', 'the query: certificate number, organization, system, standard id or model digest'),
      { name: 'status', in: 'query', description: 'only certificates with this status', schema: z.enum(STATUSES) },
      { name: 'all', in: 'query', description: '`1`: list every certificate', schema: z.literal('1') },
      { name: 'cursor', in: 'query', description: 'the next page link of the previous page', schema: z.string() },
    ],
    ok: { status: 200, description: 'the results page', type: 'text/html; charset=utf-8', schema: HTML, cache: 'no-cache' },
    errors: ['log-integrity'],
  },
  {
    method: 'get',
    path: '/issuers/{issuer}',
    id: 'getIssuerPage',
    tag: 'pages',
    summary: 'A certification body (the issuer id is this URL)',
    description:
      "The issuer profile as JSON (as `/api/v1/issuers/{issuer}`), or for browsers the issuer's page: accreditation, " +
      'keys with their validity windows, and certificates with their status. Responses vary on `Accept`.',
    params: [issuerParam, { name: 'cursor', in: 'query', description: 'the next page of certificates', schema: z.string() }],
    ok: {
      status: 200,
      description: 'the issuer profile (JSON), or the issuer page (HTML) for browsers',
      schema: 'IssuerProfile',
      alternatives: { 'text/html; charset=utf-8': HTML },
    },
    errors: ['not-found', 'log-integrity'],
  },
  {
    method: 'get',
    path: '/assets/certrail.css',
    id: 'getStylesheet',
    tag: 'pages',
    summary: 'The stylesheet of the pages',
    description: 'Cached for good when requested with the `v` content hash the pages link; revalidated otherwise.',
    ok: { status: 200, description: 'the stylesheet', type: 'text/css; charset=utf-8', schema: TEXT },
    errors: ['not-found'],
  },
  {
    method: 'get',
    path: '/assets/favicon.svg',
    id: 'getFavicon',
    tag: 'pages',
    summary: 'The icon of the pages',
    ok: { status: 200, description: 'the icon', type: 'image/svg+xml', schema: TEXT },
    errors: ['not-found'],
  },
  {
    method: 'get',
    path: '/assets/verify-page.js',
    id: 'getVerifyPageScript',
    tag: 'pages',
    summary: "The verify page's script",
    description:
      "Verifies the certificate's offline bundle in the browser with the SDK's own code (src/core, bundled with " +
      'esbuild). Cached like the stylesheet; `not-found` when the scripts are not built.',
    ok: { status: 200, description: 'the script (ES module)', type: 'text/javascript; charset=utf-8', schema: TEXT },
    errors: ['not-found'],
  },
  {
    method: 'get',
    path: '/assets/search-page.js',
    id: 'getSearchPageScript',
    tag: 'pages',
    summary: "The search page's script",
    description: 'Hashes a dropped model file or folder in the browser (OpenSSF model-signing digest) and searches for it.',
    ok: { status: 200, description: 'the script (ES module)', type: 'text/javascript; charset=utf-8', schema: TEXT },
    errors: ['not-found'],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Assembly

const SCHEMA_REF = '#/components/schemas/';
const ref = (name: ComponentName): JsonSchema => ({ $ref: `${SCHEMA_REF}${name}` });

/** A JSON Schema for an OpenAPI 3.1 document: no `$schema` or `$id` (the document's dialect applies). */
function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [name, [schema]] of Object.entries(COMPONENTS)) registry.add(schema, { id: name });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `${SCHEMA_REF}${id}`,
  });
  const out: Record<string, JsonSchema> = {};
  for (const [name, [, description]] of Object.entries(COMPONENTS)) {
    const schema = schemas[name];
    if (!schema) throw new Error(`openapi: schema ${name} was not generated`);
    out[name] = { ...strip(schema as JsonSchema), description };
  }
  if (schemas.__shared) throw new Error('openapi: a schema was extracted to __shared; register it as a component');
  return out;
}

function parameter(spec: ParamSpec): ParameterObject {
  return {
    name: spec.name,
    in: spec.in,
    required: spec.in === 'path' ? true : spec.required === true,
    description: spec.description,
    schema: strip(z.toJSONSchema(spec.schema, { target: 'draft-2020-12', io: 'input' }) as JsonSchema),
  };
}

function problemResponses(codes: readonly ProblemCode[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of PROBLEM_CODES) {
    if (!codes.includes(code)) continue;
    const status = PROBLEM_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, ResponseObject> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: `Problem: ${list.map((c) => `\`${c}\``).join(', ')}`,
      ...(status === 503 || status === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } } } : {}),
      content: {
        'application/problem+json': { schema: { allOf: [ref('Problem')], properties: { code: { enum: list } } } },
      },
      'x-problem-codes': list,
    };
  }
  return out;
}

const sentence = (text: string): string => (text.endsWith('.') ? text : `${text}.`);

function operation(spec: OperationSpec): OperationObject {
  const parameters = (spec.params ?? []).map(parameter);
  const okHeaders: ResponseObject['headers'] = {};
  if (spec.ok.cache) okHeaders['Cache-Control'] = { description: spec.ok.cache, schema: { type: 'string' } };
  if (spec.id === 'issueCertificate') okHeaders.Location = { description: 'the certificate id (verify URL)', schema: { type: 'string' } };
  const ok: ResponseObject = {
    description: spec.ok.description,
    ...(Object.keys(okHeaders).length > 0 ? { headers: okHeaders } : {}),
    content: {
      [spec.ok.type ?? 'application/json']: { schema: typeof spec.ok.schema === 'string' ? ref(spec.ok.schema) : spec.ok.schema },
      ...Object.fromEntries(Object.entries(spec.ok.alternatives ?? {}).map(([type, schema]) => [type, { schema }])),
    },
  };
  const auth = spec.auth ? (spec.auth === 'operator' ? ' Requires an operator token.' : ' Requires a certification body token.') : '';
  const limit = spec.body ? ` The body is at most ${kib(spec.body.limit)}.` : '';
  const codes: ProblemCode[] = [...spec.errors, 'internal'];
  const op: OperationObject = {
    operationId: spec.id,
    summary: spec.summary,
    description: `${sentence(spec.description ?? spec.summary)}${auth}${limit}`,
    tags: [spec.tag],
    ...(spec.auth ? { security: [{ [spec.auth]: [] }] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            description: `${spec.body.description}; at most ${spec.body.limit} bytes (${kib(spec.body.limit)})`,
            required: true as const,
            content: { 'application/json': { schema: ref(spec.body.schema) } },
            'x-max-body-bytes': spec.body.limit,
          },
        }
      : {}),
    responses: { [String(spec.ok.status)]: ok, ...problemResponses(codes) },
  };
  return op;
}

function tokenDescription(who: string, baseUrl: string): string {
  return (
    `${who} A JWT in \`Authorization: Bearer\`, signed with \`alg\` EdDSA (Ed25519; no other algorithm is tried). ` +
    `Claims: \`aud\` must be the registry base URL (${baseUrl}); \`exp\` is required and at most ` +
    `${MAX_TOKEN_LIFETIME_S / 60} minutes (${MAX_TOKEN_LIFETIME_S} s) ahead; \`nbf\`/\`iat\`, if present, not in the ` +
    'future; `jti` is required and single-use: a token is accepted once, a replay is `unauthorized`. ' +
    'Failures are 401 `unauthorized`; acting outside the principal\'s rights is 403 `forbidden`.'
  );
}

function buildDocument(baseUrl: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const spec of OPERATIONS) {
    const item = (paths[spec.path] ??= {});
    if (item[spec.method]) throw new Error(`openapi: ${spec.method} ${spec.path} is described twice`);
    item[spec.method] = operation(spec);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Certrail',
      version: '1',
      summary: 'A transparent registry for AI security certificates.',
      description:
        'Signed certificates in an append-only Merkle log (C2SP tlog-tiles), verifiable online and offline. ' +
        'Reads are public. Certification bodies write with Bearer JWTs (EdDSA, `aud` = the base URL, `exp` at most ' +
        '5 minutes ahead, single-use `jti`); writes take an `Idempotency-Key`. Request bodies are JSON: at most ' +
        `${kib(MAX_DOCUMENT_BYTES)} per certificate, event or other document, at most ${kib(MAX_BATCH_BYTES)} and ` +
        `${MAX_BATCH} items per verification batch; larger bodies are 413 \`payload-too-large\`. Errors are RFC 9457 ` +
        '`application/problem+json` with a stable `code`: ' +
        PROBLEM_CODES.map((c) => `\`${c}\` (${PROBLEM_STATUS[c]})`).join(', ') +
        '.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: baseUrl }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        certificationBody: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: tokenDescription(
            'A certification body: `iss` is its issuer slug and `kid` one of its registered, unrevoked key ids. ' +
              'A CB acts on its own certificates only.',
            baseUrl,
          ),
        },
        operator: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: tokenDescription(
            `The registry operator: \`iss\` and \`kid\` are \`${OPERATOR}\`, signed by the registry key ` +
              '(`registryKey` in /.well-known/certrail).',
            baseUrl,
          ),
        },
      },
    },
  };
}

const documents = new Map<string, OpenApiDocument>();
const pages = new Map<string, string>();

/** The OpenAPI 3.1 document for a registry at `baseUrl`, built once and cached. Treat it as read-only. */
export function openApiDocument(baseUrl: string): OpenApiDocument {
  let document = documents.get(baseUrl);
  if (!document) {
    document = buildDocument(baseUrl);
    documents.set(baseUrl, document);
  }
  return document;
}

/** GET /openapi.json. */
export function openApiResponse(baseUrl: string): Response {
  return new Response(JSON.stringify(openApiDocument(baseUrl)), {
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
  });
}

/** GET /docs: the reference page, self-contained (no script, no external resource). */
export function docsResponse(baseUrl: string): Response {
  let page = pages.get(baseUrl);
  if (!page) {
    page = renderDocs(openApiDocument(baseUrl));
    pages.set(baseUrl, page);
  }
  return new Response(page, {
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'public, max-age=300',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// /docs rendering

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inline Markdown code spans (`x`) become <code>; everything else is escaped. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** A short name for a schema: its component name, `A | B`, `A[]`, or its JSON type. */
export function schemaName(schema: JsonSchema | undefined): string {
  if (!schema) return '—';
  const $ref = schema.$ref;
  if (typeof $ref === 'string') return $ref.startsWith(SCHEMA_REF) ? $ref.slice(SCHEMA_REF.length) : $ref;
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) return list.map((s) => schemaName(s as JsonSchema)).join(key === 'allOf' ? ' & ' : ' | ');
  }
  if (schema.type === 'array') return `${schemaName(schema.items as JsonSchema | undefined)}[]`;
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : String(schema.type ?? 'any');
  const details: string[] = [];
  if (typeof schema.pattern === 'string') details.push(`pattern ${schema.pattern}`);
  if (typeof schema.minimum === 'number' && schema.minimum > Number.MIN_SAFE_INTEGER) details.push(`≥ ${schema.minimum}`);
  if (typeof schema.maximum === 'number' && schema.maximum < Number.MAX_SAFE_INTEGER) details.push(`≤ ${schema.maximum}`);
  if (typeof schema.maxLength === 'number') details.push(`max length ${schema.maxLength}`);
  if (schema.default !== undefined) details.push(`default ${JSON.stringify(schema.default)}`);
  return details.length > 0 ? `${type} (${details.join(', ')})` : type;
}

function anchor(method: string, path: string): string {
  return `${method}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

function renderOperation(method: HttpMethod, path: string, op: OperationObject): string {
  const out: string[] = [];
  out.push(`<section class="op" id="${anchor(method, path)}">`);
  out.push(`<h3><span class="method ${method}">${method.toUpperCase()}</span> <code class="path">${escapeHtml(path)}</code></h3>`);
  out.push(`<p class="summary">${prose(op.summary)}</p>`);
  if (op.description && op.description !== sentence(op.summary)) out.push(`<p>${prose(op.description)}</p>`);
  if (op.security) {
    const names = op.security.flatMap((s) => Object.keys(s));
    out.push(`<p class="auth">Authorization: ${names.map((n) => `<a href="#auth-${n}">Bearer JWT (${escapeHtml(n)})</a>`).join(', ')}</p>`);
  }
  if (op.parameters && op.parameters.length > 0) {
    out.push('<table><caption>Parameters</caption><thead><tr><th>Name</th><th>In</th><th>Schema</th><th>Description</th></tr></thead><tbody>');
    for (const p of op.parameters) {
      out.push(
        `<tr><td><code>${escapeHtml(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td>` +
          `<td>${p.in}</td><td><code>${escapeHtml(schemaName(p.schema))}</code></td><td>${prose(p.description)}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }
  if (op.requestBody) {
    const [type, media] = Object.entries(op.requestBody.content)[0] ?? ['', {}];
    out.push(
      `<p><strong>Request body</strong> (<code>${escapeHtml(type)}</code>): ` +
        `<a href="#schema-${escapeHtml(schemaName(media.schema))}"><code>${escapeHtml(schemaName(media.schema))}</code></a> — ` +
        `${prose(op.requestBody.description)}</p>`,
    );
  }
  out.push('<table><caption>Responses</caption><thead><tr><th>Status</th><th>Content</th><th>Description</th></tr></thead><tbody>');
  for (const [status, response] of Object.entries(op.responses)) {
    const content = Object.entries(response.content ?? {})
      .map(([type, media]) => {
        const name = schemaName(media.schema);
        const codes = response['x-problem-codes'];
        const shown = codes ? 'Problem' : name;
        const link = shown in COMPONENTS ? `<a href="#schema-${escapeHtml(shown)}"><code>${escapeHtml(shown)}</code></a>` : `<code>${escapeHtml(shown)}</code>`;
        return `<code>${escapeHtml(type)}</code> ${link}`;
      })
      .join('<br>');
    const codes = response['x-problem-codes'];
    const description = codes
      ? `codes: ${codes.map((c) => `<code class="code">${escapeHtml(c)}</code>`).join(' ')}`
      : prose(response.description);
    out.push(`<tr class="${status.startsWith('2') ? 'ok' : 'err'}"><td>${status}</td><td>${content}</td><td>${description}</td></tr>`);
  }
  out.push('</tbody></table></section>');
  return out.join('\n');
}

const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de; --code: #f3f4f6; --get: #0969da; --post: #1a7f37; --err: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #30363d; --code: #161b22; --get: #4493f8; --post: #3fb950; --err: #f85149; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { margin: 0 0 .25rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { margin: 0 0 .25rem; font-size: 1.05rem; }
code { font: .9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code); padding: .05em .3em; border-radius: 4px; overflow-wrap: anywhere; }
a { color: var(--get); }
nav ul { columns: 2 22rem; padding-left: 1.2rem; }
.op { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 3.6rem; text-align: center; color: #fff; border-radius: 4px; padding: .05rem .4rem; font-size: .85rem; }
.method.get { background: var(--get); } .method.post { background: var(--post); }
.summary { margin: .25rem 0; font-weight: 600; } .auth, .muted { color: var(--muted); }
.req { color: var(--err); font-size: .8rem; } .code { color: var(--err); }
table { border-collapse: collapse; width: 100%; margin: .75rem 0; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
tr.err td:first-child { color: var(--err); } tr.ok td:first-child { color: var(--post); }
pre { background: var(--code); padding: .75rem; border-radius: 6px; overflow: auto; max-height: 24rem; font-size: .85rem; }
`;

function renderDocs(doc: OpenApiDocument): string {
  const out: string[] = [];
  out.push('<!doctype html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>${escapeHtml(doc.info.title)} API reference</title>`, `<style>${CSS}</style>`, '</head>', '<body><main>');
  out.push(`<h1>${escapeHtml(doc.info.title)} API reference</h1>`);
  out.push(`<p class="muted">OpenAPI ${doc.openapi} · version ${escapeHtml(doc.info.version)} · server <code>${escapeHtml(doc.servers[0]?.url ?? '')}</code> · machine-readable: <a href="openapi.json">openapi.json</a></p>`);
  out.push(`<p>${prose(doc.info.description)}</p>`);

  const operations: Array<{ method: HttpMethod; path: string; op: OperationObject }> = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post'] as const) {
      const op = item[method];
      if (op) operations.push({ method, path, op });
    }
  }
  out.push('<nav aria-label="Operations"><h2>Operations</h2><ul>');
  for (const { method, path, op } of operations) {
    out.push(`<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a> — ${prose(op.summary)}</li>`);
  }
  out.push('</ul></nav>');

  for (const tag of doc.tags) {
    out.push(`<h2 id="tag-${escapeHtml(tag.name)}">${escapeHtml(tag.name)}</h2>`, `<p>${prose(tag.description)}</p>`);
    for (const { method, path, op } of operations) if (op.tags.includes(tag.name)) out.push(renderOperation(method, path, op));
  }

  out.push('<h2 id="auth">Authorization</h2>');
  for (const [name, scheme] of Object.entries(doc.components.securitySchemes)) {
    out.push(`<h3 id="auth-${escapeHtml(name)}">${escapeHtml(name)}</h3>`, `<p>${prose(scheme.description)}</p>`);
  }

  out.push('<h2 id="errors">Error codes</h2>');
  out.push('<table><thead><tr><th>Code</th><th>Status</th></tr></thead><tbody>');
  for (const code of PROBLEM_CODES) out.push(`<tr><td><code class="code">${code}</code></td><td>${PROBLEM_STATUS[code]}</td></tr>`);
  out.push('</tbody></table>');

  out.push('<h2 id="schemas">Schemas</h2>');
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    const description = typeof schema.description === 'string' ? schema.description : '';
    out.push(`<section id="schema-${escapeHtml(name)}"><h3><code>${escapeHtml(name)}</code></h3><p>${prose(description)}</p>`);
    out.push(`<details><summary>JSON Schema</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details></section>`);
  }
  out.push('</main></body></html>');
  return out.join('\n');
}
