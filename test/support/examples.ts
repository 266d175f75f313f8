// Test support: realistic example documents (unsigned), for any test that needs a certificate or an event.
// Sign them with signDataIntegrity and verificationMethodOf(issuerIdOf(base, slug), keyId).
import { certificateIdOf, issuerIdOf, type StatusEventKind } from '../../src/core/credential.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';

/** Objects merge member by member; arrays and scalars replace; `undefined` deletes the member. */
export type Overrides = { [k: string]: JsonValue | Overrides | undefined };

export function mergeOverrides(base: JsonObject, overrides: Overrides): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) {
      delete out[key];
    } else if (isPlainOverride(value) && isJsonObject(out[key])) {
      out[key] = mergeOverrides(out[key], value);
    } else {
      out[key] = value as JsonValue;
    }
  }
  return out;
}

function isPlainOverride(value: JsonValue | Overrides): value is Overrides {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const EXAMPLE_BASE_URL = 'https://certrail.example.org';

/** sha256 of the UTF-8 text "example model weights" (the "file" serialization of that one file). */
export const EXAMPLE_MODEL_DIGEST = 'sha256:fa0828a652e2090b0b448ec186f8ebb0825c52713fd3473ed85c6fb0eb1a1638';

/**
 * An unsigned AI security certificate as a certification body would issue it: valid for three years from
 * 2025-01-15, first surveillance audit due after twelve months.
 */
export function exampleCertificate(
  baseUrl = EXAMPLE_BASE_URL,
  slug = 'acme-cert',
  number = 'AI-2025-0001',
  overrides: Overrides = {},
): JsonObject {
  const certificate: JsonObject = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: certificateIdOf(baseUrl, slug, number),
    type: ['VerifiableCredential', 'AISecurityCertificate'],
    issuer: { id: issuerIdOf(baseUrl, slug), name: 'ACME Certification GmbH' },
    validFrom: '2025-01-15T00:00:00Z',
    validUntil: '2028-01-14T23:59:59Z',
    credentialSubject: {
      type: 'CertifiedAISystem',
      organization: {
        name: 'Example Robotics AG',
        identifiers: [{ scheme: 'LEI', value: '5299000J2N45DDNE4Y28' }],
      },
      system: { name: 'Example Vision Inspector', version: '2.3.1' },
      models: [
        {
          name: 'inspector-detector.safetensors',
          digest: EXAMPLE_MODEL_DIGEST,
          serialization: { method: 'file', hashType: 'sha256' },
        },
        {
          name: 'inspector-classifier',
          digest: 'sha256:9b74c9897bac770ffc029102a200c5de1f8c8c1c2a1b4e3f6a0b1c2d3e4f5a6b',
          serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false },
        },
      ],
      certificate: {
        number,
        scope:
          'Design, development and operation of the visual defect inspection system, including model training\n' +
          'pipelines and the deployment at the Basel production site.',
        standards: [
          { id: 'ISO/IEC 42001:2023', title: 'Artificial intelligence — Management system' },
          { id: 'ISO/IEC 27001:2022' },
        ],
        accreditation: { body: 'DAkkS', number: 'D-ZM-12345-01-00', scope: 'ISO/IEC 42001 management systems' },
        surveillance: { intervalMonths: 12, firstDueBy: '2026-01-15T00:00:00Z' },
        evidence: [
          {
            name: 'stage-2-audit-report.pdf',
            digest: 'sha256:0c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d',
          },
        ],
      },
    },
  };
  return mergeOverrides(certificate, overrides);
}

/**
 * An unsigned status event with the members its kind requires. `previous` defaults to log index 0 with an
 * all-zero leaf hash; pass the real chain head when logging it.
 */
export function exampleStatusEvent(
  certificateId: string,
  kind: StatusEventKind,
  overrides: Overrides = {},
): JsonObject {
  const event: JsonObject = {
    type: 'CertificateStatusEvent',
    certificate: certificateId,
    kind,
    effective: '2025-06-01T09:30:00Z',
    previous: { index: 0, leafHash: '0'.repeat(64) },
  };
  switch (kind) {
    case 'suspended':
      event.reason = 'Surveillance audit not performed within the agreed period.';
      break;
    case 'revoked':
      event.reason = 'Certified organization requested withdrawal.';
      break;
    case 'surveillance-audit':
      event.audit = {
        outcome: 'passed-with-findings',
        date: '2025-05-28T00:00:00Z',
        nextDueBy: '2026-05-28T00:00:00Z',
        auditor: 'J. Doe',
      };
      break;
    case 'recertified':
      event.validUntil = '2031-01-14T23:59:59Z';
      break;
    case 'scope-changed':
      event.scope = 'Visual defect inspection at the Basel and Lyon production sites.';
      break;
    case 'reinstated':
      break;
  }
  return mergeOverrides(event, overrides);
}
