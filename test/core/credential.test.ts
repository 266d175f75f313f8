import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exportJsonSchemas, JSON_SCHEMA_DIR } from '../../scripts/export-json-schemas.js';
import {
  asJsonObject,
  CERT_NUMBER,
  certificateDraftSchema,
  certificateIdOf,
  certificateSchema,
  completeDraft,
  isDateTime,
  ISSUER_SLUG,
  issuerIdOf,
  issuerKeyAddedSchema,
  issuerKeyRevokedSchema,
  issuerRegistrationSchema,
  KEY_ID,
  parseCertificateId,
  parseDocument,
  parseIssuerId,
  splitVerificationMethod,
  STATUS_EVENT_KINDS,
  type StatusEventKind,
  statusEventDraftSchema,
  statusEventSchema,
  toMillis,
  unsignedCertificateSchema,
  verificationMethodOf,
} from '../../src/core/credential.js';
import { ed25519PublicKey } from '../../src/core/crypto.js';
import { signDataIntegrity, verifyDataIntegrity } from '../../src/core/data-integrity.js';
import { RegistryError } from '../../src/core/errors.js';
import { isJsonObject, parseJsonStrict, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { formatPath } from '../../src/core/validate.js';
import { EXAMPLE_BASE_URL, exampleCertificate, exampleStatusEvent, type Overrides } from '../support/examples.js';

const BASE = EXAMPLE_BASE_URL;
const SLUG = 'acme-cert';
const NUMBER = 'AI-2025-0001';
const ISSUER = issuerIdOf(BASE, SLUG);
const CERT_ID = certificateIdOf(BASE, SLUG, NUMBER);
const SEED = new Uint8Array(32).fill(7);
const REGISTRY_SEED = new Uint8Array(32).fill(9);
const REGISTRY_METHOD = `${BASE}/.well-known/certrail#registry`;

const sign = (document: JsonObject, method = verificationMethodOf(ISSUER, 'k1')) =>
  signDataIntegrity(document, { seed: SEED, verificationMethod: method, created: '2025-01-15T08:00:00Z' });

/** Asserts that parsing fails with RegistryError('bad-request') whose detail starts with `detail`. */
function expectRejected(schema: Parameters<typeof parseDocument>[0], value: JsonValue, detail: string): void {
  let error: unknown;
  try {
    parseDocument(schema, value);
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${detail}`).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).code).toBe('bad-request');
  expect((error as RegistryError).detail.startsWith(detail), (error as RegistryError).detail).toBe(true);
}

describe('JSON Schemas', () => {
  it('committed files equal a fresh export (run: npx tsx scripts/export-json-schemas.ts)', () => {
    const fresh = exportJsonSchemas();
    const committed = readdirSync(JSON_SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'));
    expect(committed.sort()).toEqual([...fresh.keys()].sort());
    for (const [file, text] of fresh) {
      expect(readFileSync(join(JSON_SCHEMA_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('are JSON Schema 2020-12 documents that close the certificate shape', () => {
    const schema = parseJsonStrict(exportJsonSchemas().get('certificate.schema.json')!) as JsonObject;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(
      expect.arrayContaining(['@context', 'id', 'type', 'issuer', 'validFrom', 'validUntil', 'credentialSubject', 'proof']),
    );
  });

  it('use patterns that compile as ECMA-262 regular expressions in Unicode mode, as validators run them', () => {
    const patterns: string[] = [];
    const collect = (value: JsonValue) => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (isJsonObject(value)) {
        for (const [key, member] of Object.entries(value)) {
          if (key === 'pattern' && typeof member === 'string') patterns.push(member);
          else collect(member);
        }
      }
    };
    for (const text of exportJsonSchemas().values()) collect(parseJsonStrict(text));
    expect(patterns.length).toBeGreaterThan(50);
    for (const pattern of patterns) expect(() => new RegExp(pattern, 'u'), pattern).not.toThrow();
  });
});

describe('identifiers', () => {
  it('builds and parses ids', () => {
    expect(ISSUER).toBe('https://certrail.example.org/issuers/acme-cert');
    expect(CERT_ID).toBe('https://certrail.example.org/v/acme-cert/AI-2025-0001');
    expect(verificationMethodOf(ISSUER, 'k1')).toBe(`${ISSUER}#k1`);
    expect(parseCertificateId(BASE, CERT_ID)).toEqual({ issuer: SLUG, number: NUMBER });
    expect(parseIssuerId(BASE, ISSUER)).toBe(SLUG);
    expect(splitVerificationMethod(`${ISSUER}#k1`)).toEqual({ issuerId: ISSUER, keyId: 'k1' });
  });

  it('parses ids under a base URL with a path, and only for that base', () => {
    const base = 'http://127.0.0.1:8787/v/reg';
    const id = certificateIdOf(base, 'cb', 'N.1~x');
    expect(parseCertificateId(base, id)).toEqual({ issuer: 'cb', number: 'N.1~x' });
    expect(parseCertificateId(BASE, id)).toBeNull();
    expect(parseCertificateId(BASE, `${BASE}/v/acme-cert/a/b`)).toBeNull();
    expect(parseCertificateId(BASE, `${BASE}/v/Acme/1`)).toBeNull();
    expect(parseCertificateId(BASE, `${BASE}/v/acme/1?x`)).toBeNull();
    expect(parseCertificateId(BASE, `${BASE}/issuers/acme`)).toBeNull();
  });

  it('uses the specified patterns', () => {
    expect(ISSUER_SLUG.source).toBe(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.source);
    expect(CERT_NUMBER.source).toBe(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$/.source);
    expect(KEY_ID.source).toBe(/^[A-Za-z0-9._-]{1,64}$/.source);
    for (const slug of ['a', 'acme-cert', '0', 'a'.repeat(64)]) expect(ISSUER_SLUG.test(slug)).toBe(true);
    for (const slug of ['', '-a', 'a-', 'A', 'a_b', 'a'.repeat(65)]) expect(ISSUER_SLUG.test(slug)).toBe(false);
    for (const n of ['1', 'AI-2025/1', '.a', 'a b', 'a%20', 'a'.repeat(65)]) expect(CERT_NUMBER.test(n)).toBe(n === '1');
  });

  it('refuses malformed parts', () => {
    expect(() => issuerIdOf(`${BASE}/`, SLUG)).toThrow(RegistryError);
    expect(() => issuerIdOf(BASE, 'Bad')).toThrow(RegistryError);
    expect(() => certificateIdOf(BASE, SLUG, 'a/b')).toThrow(RegistryError);
    expect(() => verificationMethodOf(ISSUER, 'k#1')).toThrow(RegistryError);
  });
});

describe('date-times', () => {
  it('accepts strict RFC 3339 date-times only', () => {
    for (const t of ['2025-01-15T00:00:00Z', '2024-02-29T23:59:59.123456789+14:00', '2025-12-31T12:00:00-05:30']) {
      expect(isDateTime(t), t).toBe(true);
    }
    for (const t of [
      '2025-01-15',
      '2025-01-15T00:00Z',
      '2025-01-15t00:00:00z',
      '2025-01-15 00:00:00Z',
      '2025-01-15T00:00:00',
      '2025-02-29T00:00:00Z',
      '2025-04-31T00:00:00Z',
      '2025-01-15T24:00:00Z',
      '2016-12-31T23:59:60Z',
      '2025-01-15T00:00:00+15:00',
      '2025-01-15T00:00:00.1234567890Z',
      '+02025-01-15T00:00:00Z',
    ]) {
      expect(isDateTime(t), t).toBe(false);
    }
  });

  it('converts to epoch milliseconds', () => {
    expect(toMillis('1970-01-01T00:00:00Z')).toBe(0);
    expect(toMillis('1970-01-01T01:00:00+01:00')).toBe(0);
    expect(toMillis('1969-12-31T19:00:00.9999-05:00')).toBe(999);
    expect(toMillis('0050-03-01T00:00:00Z')).toBe(new Date('0050-03-01T00:00:00Z').getTime());
    expect(() => toMillis('yesterday')).toThrow(RegistryError);
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        expect(isDateTime(iso)).toBe(true);
        expect(toMillis(iso)).toBe(d.getTime());
      }),
    );
  });
});

describe('certificate', () => {
  it('accepts the example, signed, and the signature verifies', async () => {
    const signed = await sign(exampleCertificate(BASE, SLUG, NUMBER));
    const certificate = parseDocument(certificateSchema, signed);
    expect(certificate.credentialSubject.models).toHaveLength(2);
    expect(certificate.proof.verificationMethod).toBe(`${ISSUER}#k1`);
    expect(certificate.proof['@context']).toEqual(['https://www.w3.org/ns/credentials/v2']);
    expect(await verifyDataIntegrity(asJsonObject(certificate), await ed25519PublicKey(SEED))).toMatchObject({ ok: true });
  });

  it('accepts the VC extension points: further contexts and types', async () => {
    const signed = await sign(
      exampleCertificate(BASE, SLUG, NUMBER, {
        '@context': ['https://www.w3.org/ns/credentials/v2', 'https://certrail.example.org/contexts/v1'],
        type: ['VerifiableCredential', 'AISecurityCertificate', 'ISO42001Certificate'],
      }),
    );
    expect(() => parseDocument(certificateSchema, signed)).not.toThrow();
  });

  const cert = (certificate: Overrides): Overrides => ({ credentialSubject: { certificate } });
  const CS = 'credentialSubject.certificate';
  const invalid: Array<[string, Overrides, string]> = [
    ['missing models', { credentialSubject: { models: undefined } }, 'credentialSubject.models:'],
    ['empty models', { credentialSubject: { models: [] } }, 'credentialSubject.models:'],
    [
      'bad model digest',
      { credentialSubject: { models: [{ name: 'm', digest: 'sha256:ABC', serialization: { method: 'file', hashType: 'sha256' } }] } },
      'credentialSubject.models[0].digest: must be sha256:',
    ],
    [
      'unknown serialization method',
      { credentialSubject: { models: [{ name: 'm', digest: `sha256:${'a'.repeat(64)}`, serialization: { method: 'shards', hashType: 'sha256' } }] } },
      'credentialSubject.models[0].serialization.method:',
    ],
    ['validUntil not a date', { validUntil: 'next year' }, 'validUntil: must be an RFC 3339 date-time'],
    ['validUntil an impossible date', { validUntil: '2027-02-30T00:00:00Z' }, 'validUntil: is not a calendar date'],
    ['validUntil before validFrom', { validUntil: '2024-01-01T00:00:00Z' }, 'validUntil: must be after validFrom'],
    ['unknown top-level member', { credentialStatus: { id: 'https://x.example/status/1' } }, 'credentialStatus: is not allowed here'],
    ['unknown nested member', { credentialSubject: { system: { vendor: 'x' } } }, 'credentialSubject.system.vendor: is not allowed here'],
    ['wrong base context', { '@context': ['https://www.w3.org/2018/credentials/v1'] }, '@context[0]:'],
    ['missing type', { type: ['VerifiableCredential', 'Other'] }, 'type: must include "AISecurityCertificate"'],
    ['issuer not the one the id names', { issuer: { id: `${BASE}/issuers/other`, name: 'X' } }, 'issuer.id: must be'],
    ['number not the one the id names', cert({ number: 'AI-2025-0002' }), `${CS}.number: must be "AI-2025-0001"`],
    ['issuer given as a string', { issuer: ISSUER }, 'issuer:'],
    ['no standards', cert({ standards: [] }), `${CS}.standards:`],
    [
      'too many standards',
      { credentialSubject: { certificate: { standards: Array.from({ length: 33 }, (_, i) => ({ id: `S${i}` })) } } },
      'credentialSubject.certificate.standards:',
    ],
    ['interval 0 months', cert({ surveillance: { intervalMonths: 0 } }), `${CS}.surveillance.intervalMonths:`],
    ['interval 37 months', cert({ surveillance: { intervalMonths: 37 } }), `${CS}.surveillance.intervalMonths:`],
    ['interval 1.5 months', cert({ surveillance: { intervalMonths: 1.5 } }), `${CS}.surveillance.intervalMonths:`],
    [
      'first audit after expiry',
      { credentialSubject: { certificate: { surveillance: { firstDueBy: '2029-01-01T00:00:00Z' } } } },
      'credentialSubject.certificate.surveillance.firstDueBy: must be after validFrom',
    ],
    ['name too long', { credentialSubject: { organization: { name: 'x'.repeat(257) } } }, 'credentialSubject.organization.name:'],
    ['control character in a name', { credentialSubject: { system: { name: 'a\u0007b' } } }, 'credentialSubject.system.name: must not contain control characters'],
    ['scope too long', cert({ scope: 'x'.repeat(4001) }), `${CS}.scope:`],
    ['bad evidence digest', cert({ evidence: [{ name: 'r', digest: 'md5:00' }] }), `${CS}.evidence[0].digest:`],
    ['validFrom given as a number', { validFrom: 1736899200000 }, 'validFrom: must be a string'],
    ['models given as an object', { credentialSubject: { models: { name: 'm' } } }, 'credentialSubject.models: must be an array'],
    ['intervalMonths given as a string', cert({ surveillance: { intervalMonths: '12' } }), `${CS}.surveillance.intervalMonths: must be an integer`],
    ['allowSymlinks given as a string', { credentialSubject: { models: [{ name: 'm', digest: `sha256:${'a'.repeat(64)}`, serialization: { method: 'file', hashType: 'sha256', allowSymlinks: 'no' } }] } }, 'credentialSubject.models[0].serialization.allowSymlinks: must be true or false'],
    ['a standard given as a string', cert({ standards: ['ISO/IEC 42001:2023'] }), `${CS}.standards[0]: must be an object`],
    ['a null issuer', { issuer: null }, 'issuer: must be an object'],
    ['missing subject', { credentialSubject: undefined }, 'credentialSubject: is required'],
    ['unknown member in a model', { credentialSubject: { models: [{ name: 'm', digest: `sha256:${'a'.repeat(64)}`, serialization: { method: 'file', hashType: 'sha256' }, license: 'MIT' }] } }, 'credentialSubject.models[0].license: is not allowed here'],
    ['unknown member in the accreditation', cert({ accreditation: { body: 'DAkkS', level: 'gold' } }), `${CS}.accreditation.level: is not allowed here`],
  ];

  it.each(invalid)('rejects %s', async (_name, overrides, detail) => {
    expectRejected(certificateSchema, await sign(exampleCertificate(BASE, SLUG, NUMBER, overrides)), detail);
  });

  it('rejects proof defects', async () => {
    const signed = await sign(exampleCertificate(BASE, SLUG, NUMBER));
    const withProof = (proof: Overrides) => ({ ...signed, proof: { ...(signed.proof as JsonObject), ...proof } as JsonObject });
    expectRejected(certificateSchema, exampleCertificate(BASE, SLUG, NUMBER), 'proof:');
    expectRejected(certificateSchema, withProof({ proofPurpose: 'authentication' }), 'proof.proofPurpose:');
    expectRejected(certificateSchema, withProof({ cryptosuite: 'ecdsa-rdfc-2019' }), 'proof.cryptosuite:');
    expectRejected(certificateSchema, withProof({ proofValue: 'uAAAA' }), 'proof.proofValue:');
    expectRejected(certificateSchema, withProof({ expires: '2030-01-01T00:00:00Z' }), 'proof.expires: is not allowed here');
    expectRejected(certificateSchema, withProof({ verificationMethod: `${BASE}/issuers/other#k1` }), 'proof.verificationMethod: must be');
    expectRejected(certificateSchema, withProof({ verificationMethod: 'did:key:z6Mk' }), 'proof.verificationMethod: must be');
  });

  it('the unsigned schema refuses a proof', async () => {
    expectRejected(unsignedCertificateSchema, await sign(exampleCertificate()), 'proof: is not allowed here');
    expect(() => parseDocument(unsignedCertificateSchema, exampleCertificate())).not.toThrow();
  });

  it('never throws anything but bad-request, whatever the input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseDocument(certificateSchema, value as JsonValue);
        } catch (error) {
          expect(error).toBeInstanceOf(RegistryError);
          expect((error as RegistryError).code).toBe('bad-request');
        }
      }),
    );
  });

  it('rejects the example with any one required member removed', () => {
    const paths: string[][] = [];
    const walk = (value: JsonValue, path: string[]) => {
      if (!isJsonObject(value)) return;
      for (const [key, member] of Object.entries(value)) {
        paths.push([...path, key]);
        walk(member, [...path, key]);
      }
    };
    const example = exampleCertificate();
    walk(example, []);
    const optional = new Set([
      'credentialSubject.organization.identifiers',
      'credentialSubject.system.version',
      'credentialSubject.certificate.accreditation',
      'credentialSubject.certificate.accreditation.number',
      'credentialSubject.certificate.accreditation.scope',
      'credentialSubject.certificate.evidence',
    ]);
    expect(paths.length).toBeGreaterThan(25);
    for (const path of paths) {
      const key = path[path.length - 1]!;
      if (optional.has(path.join('.'))) continue;
      const overrides: Overrides = {};
      let cursor = overrides;
      path.slice(0, -1).forEach((p) => {
        cursor = cursor[p] = {};
      });
      cursor[key] = undefined;
      expect(() => parseDocument(unsignedCertificateSchema, exampleCertificate(BASE, SLUG, NUMBER, overrides)), path.join('.')).toThrow(
        RegistryError,
      );
    }
  });
});

describe('certificate drafts', () => {
  const { '@context': _c, id: _i, type: _t, issuer: _s, ...bare } = exampleCertificate(BASE, SLUG, NUMBER);
  const context = { baseUrl: BASE, issuerSlug: SLUG, issuerName: 'ACME Certification GmbH' };

  it('completes a bare draft into the full unsigned credential', () => {
    const draft = parseDocument(certificateDraftSchema, bare);
    const completed = completeDraft(draft, context);
    expect(completed).toEqual(parseDocument(unsignedCertificateSchema, exampleCertificate(BASE, SLUG, NUMBER)));
    expect(completed.id).toBe(CERT_ID);
  });

  it('keeps matching given members and refuses disagreeing ones', () => {
    const full = parseDocument(certificateDraftSchema, exampleCertificate(BASE, SLUG, NUMBER));
    expect(completeDraft(full, context).issuer).toEqual({ id: ISSUER, name: 'ACME Certification GmbH' });
    const reject = (draft: JsonObject, detail: string) => {
      expect(() => completeDraft(parseDocument(certificateDraftSchema, draft), context)).toThrow(detail);
    };
    reject({ ...bare, id: certificateIdOf('https://other.example', SLUG, NUMBER) }, 'id: must be');
    reject({ ...bare, issuer: { id: `${BASE}/issuers/other`, name: 'ACME Certification GmbH' } }, 'issuer.id: must be');
    reject({ ...bare, issuer: { id: ISSUER, name: 'Famous Certifier Inc.' } }, 'issuer.name: must be');
  });

  it('refuses a proof, and checks the draft as far as it goes', async () => {
    expectRejected(certificateDraftSchema, await sign(exampleCertificate()), 'proof: is not allowed here');
    expectRejected(certificateDraftSchema, { ...bare, id: `${BASE}/v/acme-cert/OTHER` }, 'credentialSubject.certificate.number:');
    expectRejected(certificateDraftSchema, { ...bare, validFrom: 'now' }, 'validFrom:');
  });
});

describe('status events', () => {
  it.each(STATUS_EVENT_KINDS)('accepts a %s event, draft and signed', async (kind) => {
    const draft = exampleStatusEvent(CERT_ID, kind);
    expect(parseDocument(statusEventDraftSchema, draft).kind).toBe(kind);
    const event = parseDocument(statusEventSchema, await sign(draft));
    expect(event.kind).toBe(kind);
    expect(event.certificate).toBe(CERT_ID);
  });

  const ev = (kind: StatusEventKind, overrides: Overrides = {}) => exampleStatusEvent(CERT_ID, kind, overrides);
  const invalid: Array<[string, JsonObject, string]> = [
    ['unknown kind', ev('reinstated', { kind: 'expired' }), 'kind: must be one of "suspended"'],
    ['missing kind', ev('reinstated', { kind: undefined }), 'kind:'],
    ['revoked without reason', ev('revoked', { reason: undefined }), 'reason: is required for suspended and revoked events'],
    ['suspended without reason', ev('suspended', { reason: undefined }), 'reason: is required for suspended and revoked events'],
    ['empty reason', ev('revoked', { reason: '' }), 'reason:'],
    ['audit without audit', ev('surveillance-audit', { audit: undefined }), 'audit: is required for surveillance-audit events'],
    ['audit outcome unknown', ev('surveillance-audit', { audit: { outcome: 'ok' } }), 'audit.outcome:'],
    ['audit without next due date', ev('surveillance-audit', { audit: { nextDueBy: undefined } }), 'audit.nextDueBy:'],
    ['next due before the audit', ev('surveillance-audit', { audit: { nextDueBy: '2025-01-01T00:00:00Z' } }), 'audit.nextDueBy: must be after audit.date'],
    ['audit on a revocation', ev('revoked', { audit: { outcome: 'passed', nextDueBy: '2026-01-01T00:00:00Z' } }), 'audit: is not allowed here'],
    ['recertified without validUntil', ev('recertified', { validUntil: undefined }), 'validUntil: is required for recertified events'],
    ['validUntil on a suspension', ev('suspended', { validUntil: '2030-01-01T00:00:00Z' }), 'validUntil: is not allowed here'],
    ['scope-changed without scope', ev('scope-changed', { scope: undefined }), 'scope: is required for scope-changed events'],
    ['bad effective time', ev('reinstated', { effective: '2025-06-01' }), 'effective:'],
    ['not a certificate id', exampleStatusEvent(`${BASE}/issuers/acme-cert`, 'reinstated'), 'certificate:'],
    ['negative previous index', ev('reinstated', { previous: { index: -1 } }), 'previous.index:'],
    ['fractional previous index', ev('reinstated', { previous: { index: 1.5 } }), 'previous.index:'],
    ['unsafe previous index', ev('reinstated', { previous: { index: 2 ** 53 } }), 'previous.index:'],
    ['uppercase leaf hash', ev('reinstated', { previous: { leafHash: 'A'.repeat(64) } }), 'previous.leafHash:'],
    ['wrong type', ev('reinstated', { type: 'StatusEvent' }), 'type:'],
  ];

  it.each(invalid)('rejects %s', async (_name, draft, detail) => {
    expectRejected(statusEventDraftSchema, draft, detail);
    expectRejected(statusEventSchema, await sign(draft), detail);
  });

  it("requires a key of the certificate's issuer", async () => {
    const draft = ev('revoked');
    expectRejected(statusEventSchema, draft, 'proof:');
    expectRejected(statusEventSchema, await sign(draft, `${BASE}/issuers/other#k1`), 'proof.verificationMethod: must be');
    expectRejected(statusEventDraftSchema, await sign(draft), 'proof: is not allowed here');
  });
});

describe('issuer documents', () => {
  const registrySign = (document: JsonObject) =>
    signDataIntegrity(document, { seed: REGISTRY_SEED, verificationMethod: REGISTRY_METHOD });

  it('accepts a registration, a key addition and a key revocation', async () => {
    const publicKeyMultibase = encodeMultikey(await ed25519PublicKey(SEED));
    const registration = parseDocument(
      issuerRegistrationSchema,
      await registrySign({
        type: 'IssuerRegistration',
        id: ISSUER,
        name: 'ACME Certification GmbH',
        accreditation: { body: 'DAkkS', number: 'D-ZM-12345-01-00', url: 'https://www.dakks.de/' },
        managedSigning: false,
      }),
    );
    expect(registration.managedSigning).toBe(false);
    const added = parseDocument(
      issuerKeyAddedSchema,
      await registrySign({ type: 'IssuerKeyAdded', issuer: ISSUER, keyId: 'k1', publicKeyMultibase }),
    );
    expect(added.publicKeyMultibase).toMatch(/^z6Mk/);
    const extras: JsonObject[] = [{}, { compromisedAt: '2025-03-01T00:00:00Z' }];
    for (const extra of extras) {
      const revoked = parseDocument(
        issuerKeyRevokedSchema,
        await registrySign({ type: 'IssuerKeyRevoked', issuer: ISSUER, keyId: 'k1', reason: 'Key rotation', ...extra }),
      );
      expect(revoked.keyId).toBe('k1');
    }
  });

  it('rejects malformed issuer documents', async () => {
    const publicKeyMultibase = encodeMultikey(await ed25519PublicKey(SEED));
    const key = { type: 'IssuerKeyAdded', issuer: ISSUER, keyId: 'k1', publicKeyMultibase };
    expectRejected(issuerKeyAddedSchema, key, 'proof:');
    expectRejected(issuerKeyAddedSchema, await registrySign({ ...key, keyId: 'k 1' }), 'keyId:');
    expectRejected(issuerKeyAddedSchema, await registrySign({ ...key, issuer: CERT_ID }), 'issuer:');
    expectRejected(issuerKeyAddedSchema, await registrySign({ ...key, publicKeyMultibase: 'z6LS' + publicKeyMultibase.slice(4) }), 'publicKeyMultibase:');
    // Right shape, wrong multicodec once decoded.
    expectRejected(issuerKeyAddedSchema, await registrySign({ ...key, publicKeyMultibase: `z6Mk${'1'.repeat(44)}` }), 'publicKeyMultibase: is not a valid');
    const revoked = { type: 'IssuerKeyRevoked', issuer: ISSUER, keyId: 'k1', reason: 'Compromise' };
    const { reason: _reason, ...noReason } = revoked;
    expectRejected(issuerKeyRevokedSchema, await registrySign(noReason), 'reason:');
    expectRejected(issuerKeyRevokedSchema, await registrySign({ ...revoked, compromisedAt: 'March' }), 'compromisedAt:');
    const registration = { type: 'IssuerRegistration', id: ISSUER, name: 'ACME', managedSigning: 'yes' };
    expectRejected(issuerRegistrationSchema, await registrySign(registration), 'managedSigning:');
    expectRejected(issuerRegistrationSchema, await registrySign({ ...registration, managedSigning: true, id: `${BASE}/issuers/Bad` }), 'id:');
  });
});

describe('parse helpers', () => {
  it('return the document with its members in schema order, the order the registry logs them in', async () => {
    const signed = await sign(exampleCertificate(BASE, SLUG, NUMBER));
    const reversed = (value: JsonValue): JsonValue =>
      Array.isArray(value)
        ? value.map(reversed)
        : isJsonObject(value)
          ? Object.fromEntries(Object.entries(value).reverse().map(([k, m]) => [k, reversed(m)]))
          : value;
    const parsed = parseDocument(certificateSchema, reversed(signed));
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(parseDocument(certificateSchema, signed)));
    expect(Object.keys(parsed)).toEqual(['@context', 'id', 'type', 'issuer', 'validFrom', 'validUntil', 'credentialSubject', 'proof']);
    expect(formatPath(['credentialSubject', 'models', 0])).toBe('credentialSubject.models[0]');
  });

  it('rejects non-objects at the root', () => {
    expectRejected(certificateSchema, [], '(document):');
    expectRejected(statusEventSchema, null, '(document):');
  });
});
