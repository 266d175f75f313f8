// The signed documents of Certrail (DESIGN §Formats): the certificate (a W3C VC 2.0 with an eddsa-jcs-2022 Data
// Integrity proof), certificate status events, and the registry-signed issuer documents. Their validators (built
// with src/core/validate.ts), the inferred types, identifier helpers and one parse helper that throws
// RegistryError('bad-request').
//
// Closed shapes. Every object is strict (unknown members are rejected) except at the two extension points the
// VC 2.0 data model requires: `@context` may list further context URLs after the base context (VC 2.0 §4.3),
// and `type` may list further types besides the two required ones (§4.5). Everything else is closed because
// the verifier would silently ignore an unknown member, and an unknown member may carry a claim
// (`credentialStatus`, `termsOfUse`, a second `evidence`) that a relying party would take as checked. Nothing
// is JSON-LD processed: the signature covers the JCS bytes, so extra contexts cannot change what was signed.
// The optional VC 2.0 members `name` and `description` are accepted on the credential.
//
// Identifiers. An issuer is `<base>/issuers/<slug>`, a certificate `<base>/v/<slug>/<number>` (the verify URL),
// a key `<issuer id>#<key id>`. Slugs, certificate numbers and key ids use only URL-unreserved characters
// (RFC 3986 §2.3), so every id is its own URL without percent-encoding and compares as a plain string.
//
// Cross-member rules that JSON Schema cannot state (issuer and number agree with the id, the proof's key belongs
// to the issuer, validity ordering) are refinements; the exported JSON Schemas (src/http/document-schemas.ts,
// generated from these definitions) carry only the shapes.
//
// Bounds: strings and arrays are bounded so that hostile input is refused before it is stored; the log entry
// limit (65,535 bytes) is the final bound on a document's size.
import { RegistryError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { SHA256_DIGEST } from './model-digest.js';
import { decodeMultikey } from './multibase.js';
import * as v from './validate.js';
import { Invalid, type Infer, type Schema } from './validate.js';

// ---------------------------------------------------------------------------------------------------------------
// Identifiers

const SLUG_SOURCE = '[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?';
const NUMBER_SOURCE = '[A-Za-z0-9][A-Za-z0-9._~-]{0,63}';
const KEY_ID_SOURCE = '[A-Za-z0-9._-]{1,64}';
// http(s), a lowercase host name or bracketed IPv6 literal, an optional port, optional path segments; no trailing
// slash, query or fragment. Segments cannot hold '/', so splitting an id at its last segments is unambiguous.
const BASE_URL_SOURCE =
  "https?://(?:[a-z0-9-]+(?:\\.[a-z0-9-]+)*|\\[[0-9a-f:.]+\\])(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*";

/** An issuer slug: lowercase letters, digits and inner hyphens, 1 to 64 characters. */
export const ISSUER_SLUG = new RegExp(`^${SLUG_SOURCE}$`);
/** A certificate number: URL-unreserved characters only, so the verify URL needs no escaping; 1 to 64. */
export const CERT_NUMBER = new RegExp(`^${NUMBER_SOURCE}$`);
/** A key id, the fragment of a verification method. */
export const KEY_ID = new RegExp(`^${KEY_ID_SOURCE}$`);
/** The registry's public base URL, e.g. `https://certrail.example.org` (no trailing slash). */
export const BASE_URL = new RegExp(`^${BASE_URL_SOURCE}$`);
const ISSUER_ID = new RegExp(`^(${BASE_URL_SOURCE})/issuers/(${SLUG_SOURCE})$`);
const CERTIFICATE_ID = new RegExp(`^(${BASE_URL_SOURCE})/v/(${SLUG_SOURCE})/(${NUMBER_SOURCE})$`);
const ISSUER_VERIFICATION_METHOD = new RegExp(`^(${BASE_URL_SOURCE}/issuers/${SLUG_SOURCE})#(${KEY_ID_SOURCE})$`);

/** Longest id or URL accepted anywhere. */
export const MAX_URL_LENGTH = 512;

function requireMatch(pattern: RegExp, value: string, what: string): void {
  if (value.length > MAX_URL_LENGTH || !pattern.test(value)) {
    throw new RegistryError('bad-request', `${JSON.stringify(value)} is not a valid ${what}`);
  }
}

/** `<base>/issuers/<slug>`; throws RegistryError('bad-request') for a malformed base URL or slug. */
export function issuerIdOf(baseUrl: string, slug: string): string {
  requireMatch(BASE_URL, baseUrl, 'base URL');
  requireMatch(ISSUER_SLUG, slug, 'issuer slug');
  return `${baseUrl}/issuers/${slug}`;
}

/** `<base>/v/<slug>/<number>`, the certificate id and its verify URL; throws on malformed parts. */
export function certificateIdOf(baseUrl: string, slug: string, number: string): string {
  requireMatch(BASE_URL, baseUrl, 'base URL');
  requireMatch(ISSUER_SLUG, slug, 'issuer slug');
  requireMatch(CERT_NUMBER, number, 'certificate number');
  return `${baseUrl}/v/${slug}/${number}`;
}

/** `<issuer id>#<key id>`; throws on a malformed issuer id or key id. */
export function verificationMethodOf(issuerId: string, keyId: string): string {
  requireMatch(ISSUER_ID, issuerId, 'issuer id');
  requireMatch(KEY_ID, keyId, 'key id');
  return `${issuerId}#${keyId}`;
}

/** Splits any well-formed certificate id, whatever its base URL. */
export function splitCertificateId(id: string): { baseUrl: string; issuer: string; number: string } | null {
  const m = id.length <= MAX_URL_LENGTH ? CERTIFICATE_ID.exec(id) : null;
  return m === null ? null : { baseUrl: m[1]!, issuer: m[2]!, number: m[3]! };
}

/** The issuer slug and certificate number of a certificate id of this registry, or null. */
export function parseCertificateId(baseUrl: string, id: string): { issuer: string; number: string } | null {
  const parts = splitCertificateId(id);
  return parts === null || parts.baseUrl !== baseUrl ? null : { issuer: parts.issuer, number: parts.number };
}

/** Splits any well-formed issuer id, whatever its base URL. */
export function splitIssuerId(id: string): { baseUrl: string; issuer: string } | null {
  const m = id.length <= MAX_URL_LENGTH ? ISSUER_ID.exec(id) : null;
  return m === null ? null : { baseUrl: m[1]!, issuer: m[2]! };
}

/** The slug of an issuer id of this registry, or null. */
export function parseIssuerId(baseUrl: string, id: string): string | null {
  const parts = splitIssuerId(id);
  return parts === null || parts.baseUrl !== baseUrl ? null : parts.issuer;
}

/** Splits an issuer key's verification method `<issuer id>#<key id>`, or null. */
export function splitVerificationMethod(method: string): { issuerId: string; keyId: string } | null {
  const m = method.length <= MAX_URL_LENGTH ? ISSUER_VERIFICATION_METHOD.exec(method) : null;
  return m === null ? null : { issuerId: m[1]!, keyId: m[2]! };
}

/** The issuer id that a certificate id names (same base URL and slug), or null. */
export function issuerIdOfCertificate(certificateId: string): string | null {
  const parts = splitCertificateId(certificateId);
  return parts === null ? null : `${parts.baseUrl}/issuers/${parts.issuer}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Date-times

// RFC 3339 §5.6 date-time, narrowed to what is also an XML Schema 1.1 dateTimeStamp (the type VC 2.0 gives
// validFrom/validUntil and Data Integrity gives `created`): uppercase T and Z, seconds required, no leap second,
// offsets within ±14:00, at most 9 fractional digits. Calendar validity is checked by `isDateTime`.
const DATE_TIME_SOURCE =
  '(\\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):([0-5]\\d):([0-5]\\d)(\\.\\d{1,9})?' +
  '(Z|([+-])((?:0\\d|1[0-3]):[0-5]\\d|14:00))';
/** The shape of a date-time; `isDateTime` adds the calendar check. */
export const DATE_TIME = new RegExp(`^${DATE_TIME_SOURCE}$`);

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Milliseconds since the epoch, or NaN when `text` is not a valid date-time. Fractions below 1 ms are dropped. */
function parseDateTime(text: string): number {
  const m = DATE_TIME.exec(text);
  if (m === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  if (day > daysInMonth(year, month)) return Number.NaN;
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, keeps years 0-99 as they are
  date.setUTCHours(hour, minute, second, fraction);
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const [oh, om] = m[10]!.split(':').map(Number) as [number, number];
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return date.getTime() - offsetMinutes * 60_000;
}

/** Whether `text` is a strict RFC 3339 date-time (see DATE_TIME) naming a real calendar day. */
export function isDateTime(text: string): boolean {
  return !Number.isNaN(parseDateTime(text));
}

/** Milliseconds since the epoch of a date-time; throws RegistryError('bad-request') if it is not one. */
export function toMillis(text: string): number {
  const ms = parseDateTime(text);
  if (Number.isNaN(ms)) throw new RegistryError('bad-request', `${JSON.stringify(text)} is not an RFC 3339 date-time`);
  return ms;
}

// ---------------------------------------------------------------------------------------------------------------
// Building blocks

export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
export const CERTIFICATE_TYPES = ['VerifiableCredential', 'AISecurityCertificate'] as const;

export const MAX_NAME_LENGTH = 256;
export const MAX_TEXT_LENGTH = 4000;
export const MAX_MODELS = 256;
export const MAX_STANDARDS = 32;
export const MAX_EVIDENCE = 64;
export const MAX_IDENTIFIERS = 16;
const MAX_CONTEXTS = 8;
const MAX_TYPES = 8;

// No C0 controls or DEL on one line; multi-line text may also hold tab and line feed.
const SINGLE_LINE = /^[^\u0000-\u001f\u007f]*$/;
const MULTI_LINE = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;
const HEX_64 = /^[0-9a-f]{64}$/;
const URL_TEXT = /^https?:\/\/[^\s]+$/;
const MULTIKEY_ED25519 = /^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/;
const PROOF_VALUE = /^z[1-9A-HJ-NP-Za-km-z]{1,88}$/;

/** A non-empty single-line string of at most `max` UTF-16 code units. */
function line(max: number): Schema<string> {
  return v.string({ minLength: 1, maxLength: max, pattern: [SINGLE_LINE, 'must not contain control characters'] });
}

/** Non-empty text that may span lines. */
function paragraph(max: number): Schema<string> {
  return v.string({
    minLength: 1,
    maxLength: max,
    pattern: [MULTI_LINE, 'must not contain control characters other than tab and line feed'],
  });
}

/** A date-time member (see DATE_TIME). */
function dateTime(): Schema<string> {
  return v.string({
    maxLength: 40,
    pattern: [DATE_TIME, 'must be an RFC 3339 date-time with seconds and a Z or ±hh:mm offset'],
    test: [isDateTime, 'is not a calendar date'],
    extra: { format: 'date-time' },
  });
}
export const dateTimeSchema = dateTime();

const urlSchema = v.string({ maxLength: MAX_URL_LENGTH, pattern: [URL_TEXT, 'must be an http(s) URL'] });
export const sha256DigestSchema = v.string({ pattern: [SHA256_DIGEST, 'must be sha256: and 64 lowercase hex digits'] });
export const issuerIdSchema = v.string({
  maxLength: MAX_URL_LENGTH,
  pattern: [ISSUER_ID, 'must be an issuer id <base>/issuers/<slug>'],
});
export const certificateIdSchema = v.string({
  maxLength: MAX_URL_LENGTH,
  pattern: [CERTIFICATE_ID, 'must be a certificate id <base>/v/<issuer>/<number>'],
});
export const certificateNumberSchema = v.string({
  pattern: [CERT_NUMBER, 'must be 1 to 64 letters, digits and ._~- starting with a letter or digit'],
});
export const keyIdSchema = v.string({ pattern: [KEY_ID, 'must be 1 to 64 letters, digits and ._-'] });
export const multikeySchema = v.string({
  pattern: [MULTIKEY_ED25519, 'must be an Ed25519 Multikey (z6Mk…)'],
  test: [
    (text) => {
      try {
        decodeMultikey(text);
        return true;
      } catch {
        return false;
      }
    },
    'is not a valid Ed25519 Multikey',
  ],
});

/** VC 2.0 §4.3: the base context first, then further context URLs. */
const contextSchema = v.tuple([v.literal(VC_V2_CONTEXT)], urlSchema, { maxItems: MAX_CONTEXTS });

/** VC 2.0 §4.5: both required types, possibly more, none twice. */
const certificateTypeSchema = v.array(line(128), {
  minItems: 2,
  maxItems: MAX_TYPES,
  refine: (types) => {
    for (const required of CERTIFICATE_TYPES) {
      if (!types.includes(required)) return new Invalid([], `must include "${required}"`);
    }
    return new Set(types).size === types.length ? null : new Invalid([], 'must not repeat a type');
  },
  extra: { uniqueItems: true, allOf: CERTIFICATE_TYPES.map((type) => ({ contains: { const: type } })) },
});

/**
 * A Data Integrity proof with the eddsa-jcs-2022 cryptosuite (vc-di-eddsa §3.3). `@context` is allowed because
 * the cryptosuite copies the document's context into the proof; `created` is optional (Data Integrity §2.1).
 * The purpose is always `assertionMethod`. Whether the key belongs to the signer is checked by the refinements
 * below (shape) and by the verifier (the key's logged history).
 */
export const dataIntegrityProofSchema = v.object({
  '@context': v.optional(contextSchema),
  type: v.literal('DataIntegrityProof'),
  cryptosuite: v.literal('eddsa-jcs-2022'),
  created: v.optional(dateTimeSchema),
  verificationMethod: v.string({ minLength: 1, maxLength: MAX_URL_LENGTH, pattern: [/^[^\s]+$/, 'must be a URL'] }),
  proofPurpose: v.literal('assertionMethod'),
  proofValue: v.string({ pattern: [PROOF_VALUE, 'must be z + base58btc'] }),
});
export type CredentialProof = Infer<typeof dataIntegrityProofSchema>;

export const accreditationSchema = v.object({
  body: line(MAX_NAME_LENGTH),
  number: v.optional(line(128)),
  scope: v.optional(paragraph(MAX_TEXT_LENGTH)),
  url: v.optional(urlSchema),
});

// ---------------------------------------------------------------------------------------------------------------
// Certificate

/**
 * The serialization parameters stored with a model digest: OpenSSF model-signing v1.0's `serialization`
 * (`method`, `hash_type`, `allow_symlinks`, `ignore_paths`), in this document's camelCase. "file" is a single
 * file's SHA-256, "files" a directory digest (see model-digest.ts).
 */
export const modelSerializationSchema = v.object({
  method: v.enumOf(['file', 'files']),
  hashType: v.literal('sha256'),
  allowSymlinks: v.optional(v.boolean()),
  ignorePaths: v.optional(v.array(line(1024), { maxItems: 64 })),
});

export const certifiedModelSchema = v.object({
  name: line(MAX_NAME_LENGTH),
  digest: sha256DigestSchema,
  serialization: modelSerializationSchema,
});

export const credentialSubjectSchema = v.object({
  type: v.literal('CertifiedAISystem'),
  organization: v.object({
    name: line(MAX_NAME_LENGTH),
    identifiers: v.optional(
      v.array(v.object({ scheme: line(64), value: line(MAX_NAME_LENGTH) }), { minItems: 1, maxItems: MAX_IDENTIFIERS }),
    ),
  }),
  system: v.object({ name: line(MAX_NAME_LENGTH), version: v.optional(line(128)) }),
  models: v.array(certifiedModelSchema, { minItems: 1, maxItems: MAX_MODELS }),
  certificate: v.object({
    number: certificateNumberSchema,
    scope: paragraph(MAX_TEXT_LENGTH),
    standards: v.array(v.object({ id: line(128), title: v.optional(line(512)) }), { minItems: 1, maxItems: MAX_STANDARDS }),
    accreditation: v.optional(accreditationSchema),
    surveillance: v.object({ intervalMonths: v.int(1, 36), firstDueBy: dateTimeSchema }),
    evidence: v.optional(
      v.array(v.object({ name: line(MAX_NAME_LENGTH), digest: sha256DigestSchema }), { minItems: 1, maxItems: MAX_EVIDENCE }),
    ),
  }),
});

const issuerSchema = v.object({ id: issuerIdSchema, name: line(MAX_NAME_LENGTH) });

const credentialShape = {
  '@context': contextSchema,
  id: certificateIdSchema,
  type: certificateTypeSchema,
  issuer: issuerSchema,
  name: v.optional(line(MAX_NAME_LENGTH)),
  description: v.optional(paragraph(MAX_TEXT_LENGTH)),
  validFrom: dateTimeSchema,
  validUntil: dateTimeSchema,
  credentialSubject: credentialSubjectSchema,
};

type CredentialCore = {
  id?: string | undefined;
  issuer?: { id: string; name: string } | undefined;
  validFrom: string;
  validUntil: string;
  credentialSubject: Infer<typeof credentialSubjectSchema>;
};

/** The id names the issuer and the number; validFrom < firstDueBy ≤ validUntil and validFrom < validUntil. */
function checkCredential(c: CredentialCore): Invalid | null {
  if (c.id !== undefined) {
    const parts = splitCertificateId(c.id);
    if (parts !== null) {
      const issuerId = `${parts.baseUrl}/issuers/${parts.issuer}`;
      if (c.issuer !== undefined && c.issuer.id !== issuerId) {
        return new Invalid(['issuer', 'id'], `must be ${issuerId}, the issuer the id names`);
      }
      if (c.credentialSubject.certificate.number !== parts.number) {
        return new Invalid(
          ['credentialSubject', 'certificate', 'number'],
          `must be ${JSON.stringify(parts.number)}, the number the id names`,
        );
      }
    }
  }
  const from = parseDateTime(c.validFrom);
  const until = parseDateTime(c.validUntil);
  const due = parseDateTime(c.credentialSubject.certificate.surveillance.firstDueBy);
  if (until <= from) return new Invalid(['validUntil'], 'must be after validFrom');
  if (due <= from || due > until) {
    return new Invalid(
      ['credentialSubject', 'certificate', 'surveillance', 'firstDueBy'],
      'must be after validFrom and not after validUntil',
    );
  }
  return null;
}

/** The proof's key must be one of `issuerId`'s keys: `<issuer id>#<key id>`. */
function checkIssuerProof(proof: CredentialProof, issuerId: string | null): Invalid | null {
  const method = splitVerificationMethod(proof.verificationMethod);
  if (method === null || (issuerId !== null && method.issuerId !== issuerId)) {
    return new Invalid(['proof', 'verificationMethod'], `must be <issuer id>#<key id> of ${issuerId ?? 'the issuer'}`);
  }
  return null;
}

/** A certificate without its proof: what the issuer signs. */
export const unsignedCertificateSchema = v.object(credentialShape, checkCredential);

/** The signed certificate of DESIGN §Formats. */
export const certificateSchema = v.object(
  { ...credentialShape, proof: dataIntegrityProofSchema },
  (c) => checkCredential(c) ?? checkIssuerProof(c.proof, c.issuer.id),
);

/**
 * What a certification body posts for managed signing: a certificate without proof whose `@context`, `type`,
 * `id` and `issuer` may be left out; `completeDraft` fills them. Given ones must agree with the registry's.
 */
export const certificateDraftSchema = v.object(
  {
    ...credentialShape,
    '@context': v.optional(contextSchema),
    id: v.optional(certificateIdSchema),
    type: v.optional(certificateTypeSchema),
    issuer: v.optional(issuerSchema),
  },
  checkCredential,
);

export type Certificate = Infer<typeof certificateSchema>;
export type UnsignedCertificate = Infer<typeof unsignedCertificateSchema>;
export type CertificateDraft = Infer<typeof certificateDraftSchema>;
export type CertifiedModel = Infer<typeof certifiedModelSchema>;

export interface DraftContext {
  baseUrl: string;
  issuerSlug: string;
  /** The registered name of the issuer. */
  issuerName: string;
}

/**
 * Fills a draft's `@context`, `type`, `issuer` and `id` from the registry's view of the issuer and the
 * certificate number, then validates the result. A draft that states an id or an issuer (id or name) other
 * than the registry's is refused with RegistryError('bad-request'): the registry signs only what it would
 * have filled in itself, so a CB cannot put another issuer's name on a managed-signed certificate.
 */
export function completeDraft(draft: CertificateDraft, context: DraftContext): UnsignedCertificate {
  const issuerId = issuerIdOf(context.baseUrl, context.issuerSlug);
  const id = certificateIdOf(context.baseUrl, context.issuerSlug, draft.credentialSubject.certificate.number);
  if (draft.id !== undefined && draft.id !== id) {
    throw new RegistryError('bad-request', `id: must be ${id} or left out`);
  }
  if (draft.issuer !== undefined && draft.issuer.id !== issuerId) {
    throw new RegistryError('bad-request', `issuer.id: must be ${issuerId} or left out`);
  }
  if (draft.issuer !== undefined && draft.issuer.name !== context.issuerName) {
    throw new RegistryError('bad-request', `issuer.name: must be ${JSON.stringify(context.issuerName)} or left out`);
  }
  const { '@context': contextList, type, id: _id, issuer: _issuer, ...rest } = draft;
  const document = {
    '@context': contextList ?? [VC_V2_CONTEXT],
    id,
    type: type ?? [...CERTIFICATE_TYPES],
    issuer: { id: issuerId, name: context.issuerName },
    ...rest,
  };
  return parseDocument(unsignedCertificateSchema, asJsonObject(document));
}

// ---------------------------------------------------------------------------------------------------------------
// Status events

export const STATUS_EVENT_KINDS = [
  'suspended',
  'reinstated',
  'revoked',
  'surveillance-audit',
  'recertified',
  'scope-changed',
] as const;
export type StatusEventKind = (typeof STATUS_EVENT_KINDS)[number];
export const AUDIT_OUTCOMES = ['passed', 'passed-with-findings', 'failed'] as const;

/** The log entry this event follows in the certificate's chain (the issuance or the previous event). */
export const previousEntrySchema = v.object({
  index: v.int(0),
  leafHash: v.string({ pattern: [HEX_64, 'must be 64 lowercase hex digits'] }),
});

export const auditSchema = v.object({
  outcome: v.enumOf(AUDIT_OUTCOMES),
  date: v.optional(dateTimeSchema),
  nextDueBy: dateTimeSchema,
  auditor: v.optional(line(MAX_NAME_LENGTH)),
});

const eventBase = {
  type: v.literal('CertificateStatusEvent'),
  certificate: certificateIdSchema,
  effective: dateTimeSchema,
  reason: v.optional(paragraph(MAX_TEXT_LENGTH)),
  previous: previousEntrySchema,
};
const reasonRequired = v.missing(paragraph(MAX_TEXT_LENGTH), 'is required for suspended and revoked events');

// Each kind's members: `reason` is required for suspended and revoked (optional otherwise), `audit` for and only for
// surveillance-audit, `validUntil` for and only for recertified, `scope` for and only for scope-changed.
const suspendedShape = { ...eventBase, kind: v.literal('suspended'), reason: reasonRequired };
const reinstatedShape = { ...eventBase, kind: v.literal('reinstated') };
const revokedShape = { ...eventBase, kind: v.literal('revoked'), reason: reasonRequired };
const auditShape = {
  ...eventBase,
  kind: v.literal('surveillance-audit'),
  audit: v.missing(auditSchema, 'is required for surveillance-audit events'),
};
const recertifiedShape = {
  ...eventBase,
  kind: v.literal('recertified'),
  validUntil: v.missing(dateTime(), 'is required for recertified events'),
};
const scopeChangedShape = {
  ...eventBase,
  kind: v.literal('scope-changed'),
  scope: v.missing(paragraph(MAX_TEXT_LENGTH), 'is required for scope-changed events'),
};

type EventCore = { kind: StatusEventKind; audit?: Infer<typeof auditSchema> | undefined };

/** An audit's `nextDueBy` comes after its `date` when that is given. */
function checkEvent(e: EventCore): Invalid | null {
  if (e.audit?.date !== undefined && parseDateTime(e.audit.nextDueBy) <= parseDateTime(e.audit.date)) {
    return new Invalid(['audit', 'nextDueBy'], 'must be after audit.date');
  }
  return null;
}

/** A status event without its proof: what the issuer signs, and what a CB posts for managed signing. */
export const statusEventDraftSchema = v.discriminatedUnion(
  'kind',
  [
    v.object(suspendedShape),
    v.object(reinstatedShape),
    v.object(revokedShape),
    v.object(auditShape),
    v.object(recertifiedShape),
    v.object(scopeChangedShape),
  ],
  checkEvent,
);

const proofMember = { proof: dataIntegrityProofSchema };

/** A signed status event: the draft plus a proof by a key of the certificate's issuer. */
export const statusEventSchema = v.discriminatedUnion(
  'kind',
  [
    v.object({ ...suspendedShape, ...proofMember }),
    v.object({ ...reinstatedShape, ...proofMember }),
    v.object({ ...revokedShape, ...proofMember }),
    v.object({ ...auditShape, ...proofMember }),
    v.object({ ...recertifiedShape, ...proofMember }),
    v.object({ ...scopeChangedShape, ...proofMember }),
  ],
  (e) => checkEvent(e) ?? checkIssuerProof(e.proof, issuerIdOfCertificate(e.certificate)),
);

export type StatusEvent = Infer<typeof statusEventSchema>;
export type StatusEventDraft = Infer<typeof statusEventDraftSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Registry-signed issuer documents (logged as issuer.registered, issuer.key.added, issuer.key.revoked)

/**
 * A proof by the operator's registry key. Its verification method is whatever the registry publishes for that
 * key (in /.well-known/certrail); the verifier compares it with the trusted registry key.
 */
const registryProofSchema = dataIntegrityProofSchema;

const issuerRegistrationShape = {
  type: v.literal('IssuerRegistration'),
  id: issuerIdSchema,
  name: line(MAX_NAME_LENGTH),
  accreditation: v.optional(accreditationSchema),
  /** Whether the registry holds a key of this issuer and signs drafts on its behalf (explicit opt-in). */
  managedSigning: v.boolean(),
};
const issuerKeyAddedShape = {
  type: v.literal('IssuerKeyAdded'),
  issuer: issuerIdSchema,
  keyId: keyIdSchema,
  publicKeyMultibase: multikeySchema,
};
const issuerKeyRevokedShape = {
  type: v.literal('IssuerKeyRevoked'),
  issuer: issuerIdSchema,
  keyId: keyIdSchema,
  /**
   * Entries logged at or after this time under the key are invalid. Absent: the key stops being valid from
   * this revocation entry's loggedAt on (a rotation, not a compromise).
   */
  compromisedAt: v.optional(dateTimeSchema),
  reason: paragraph(MAX_TEXT_LENGTH),
};

export const unsignedIssuerRegistrationSchema = v.object(issuerRegistrationShape);
export const issuerRegistrationSchema = v.object({ ...issuerRegistrationShape, proof: registryProofSchema });
export const unsignedIssuerKeyAddedSchema = v.object(issuerKeyAddedShape);
export const issuerKeyAddedSchema = v.object({ ...issuerKeyAddedShape, proof: registryProofSchema });
export const unsignedIssuerKeyRevokedSchema = v.object(issuerKeyRevokedShape);
export const issuerKeyRevokedSchema = v.object({ ...issuerKeyRevokedShape, proof: registryProofSchema });

export type IssuerRegistration = Infer<typeof issuerRegistrationSchema>;
export type IssuerKeyAdded = Infer<typeof issuerKeyAddedSchema>;
export type IssuerKeyRevoked = Infer<typeof issuerKeyRevokedSchema>;
export type UnsignedIssuerRegistration = Infer<typeof unsignedIssuerRegistrationSchema>;
export type UnsignedIssuerKeyAdded = Infer<typeof unsignedIssuerKeyAddedSchema>;
export type UnsignedIssuerKeyRevoked = Infer<typeof unsignedIssuerKeyRevokedSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/**
 * Validates `value` against `schema` and returns the typed document, its members in schema order. On failure throws
 * RegistryError('bad-request', '<path>: <message>') for the first problem (see validate.ts); an unknown member is
 * reported at its own path as "is not allowed here".
 */
export function parseDocument<T>(schema: Schema<T>, value: JsonValue): T {
  return v.parse(schema, value);
}

/**
 * Any document these schemas produce, as the JsonObject that JCS and signing take. Sound because the schemas
 * hold only JSON types (no dates or undefined members: validators leave absent optionals absent).
 */
export type CertrailDocument =
  | Certificate
  | UnsignedCertificate
  | CertificateDraft
  | StatusEvent
  | StatusEventDraft
  | IssuerRegistration
  | IssuerKeyAdded
  | IssuerKeyRevoked
  | UnsignedIssuerRegistration
  | UnsignedIssuerKeyAdded
  | UnsignedIssuerKeyRevoked;

export function asJsonObject(document: CertrailDocument): JsonObject {
  return document as unknown as JsonObject;
}
