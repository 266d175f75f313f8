// Demo data: on an empty registry, `npm start` registers one demo certification body with managed signing and logs a
// handful of certificates whose states cover every verdict a relying party can meet (active, surveillance due and
// overdue, a passed surveillance audit, suspended, revoked, expired, not yet valid).
//
// Everything goes through the Registry service in-process, exactly as the API would do it: the operator registers the
// CB (signed with the registry key), the CB posts drafts and the registry signs them with the CB's managed key. All
// dates are relative to the seeding time, so the intended states hold when the data is seeded; afterwards they age
// like any real certificate (a "due" audit becomes overdue a few weeks later).
//
// The organizations, systems and digests are fictitious (domains under the reserved `.example` TLD); the demo CB's name
// says it is demo data so that nobody takes a demo certificate for a real one.
import { toHex } from './core/bytes.js';
import { certificateIdOf } from './core/credential.js';
import { randomBytes, sha256 } from './core/crypto.js';
import type { JsonObject } from './core/json.js';
import type { CertificateStatus, SurveillanceState } from './core/status.js';
import { OPERATOR } from './http/auth.js';
import { MANAGED_KEY_ID, type Actor, type Registry } from './registry/registry.js';
import type { RegistryViews } from './registry/views.js';

/** The demo certification body's slug. */
export const DEMO_ISSUER = 'demo-cb';
export const DEMO_ISSUER_NAME = 'Demo AI Assurance GmbH (Certrail demo data)';

const DAY = 24 * 60 * 60 * 1000;
const ACCREDITATION = {
  body: 'Demo Accreditation Service',
  number: 'DAS-AIMS-0042',
  scope: 'Certification of AI management systems to ISO/IEC 42001:2023 (ISO/IEC 42006:2025)',
};
const ISO_42001 = { id: 'ISO/IEC 42001:2023', title: 'Information technology — Artificial intelligence — Management system' };
const NIST_AI_RMF = { id: 'NIST AI RMF 1.0', title: 'NIST AI 100-1, Artificial Intelligence Risk Management Framework' };
const EU_AI_ACT = {
  id: 'EU AI Act (EU) 2024/1689, Annex VII',
  title: 'Conformity assessment based on the quality management system and the technical documentation',
};

export interface DemoServices {
  registry: Registry;
  views: RegistryViews;
  /** The registry's public base URL (certificate ids and verify URLs derive from it). */
  baseUrl: string;
}

export interface DemoCertificate {
  number: string;
  /** The certificate id, which is its verify URL. */
  verifyUrl: string;
  organization: string;
  system: string;
  /** The state the demo means this certificate to have right after seeding. */
  intended: { status: CertificateStatus; surveillance: SurveillanceState };
  /** The verdict the registry computed right after seeding. */
  status: CertificateStatus | null;
  surveillance: SurveillanceState | null;
  valid: boolean;
}

type DemoEvent =
  | { kind: 'suspended' | 'revoked'; reason: string }
  | { kind: 'surveillance-audit'; date: number; nextDueBy: number; outcome: 'passed' | 'passed-with-findings'; auditor: string };

interface DemoSpec {
  number: string;
  organization: { name: string; domain: string };
  system: { name: string; version: string };
  models: Array<{ name: string; method: 'file' | 'files' }>;
  scope: string;
  standards: Array<{ id: string; title?: string }>;
  validFrom: number;
  validUntil: number;
  firstDueBy: number;
  events: DemoEvent[];
  intended: DemoCertificate['intended'];
}

/** RFC 3339 with seconds, no fraction (what people write in certificates). */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A stable, fictitious sha256 digest for a demo artefact. */
function demoDigest(label: string): string {
  return `sha256:${toHex(sha256(new TextEncoder().encode(`certrail demo artefact: ${label}`)))}`;
}

/** The demo certificates, dated relative to `today` (midnight UTC of the seeding day). */
function demoSpecs(today: number): DemoSpec[] {
  const years = (n: number) => Math.round(n * 365) * DAY;
  const days = (n: number) => n * DAY;
  return [
    {
      number: 'DEMO-0001',
      organization: { name: 'Lumen Health Diagnostics AG', domain: 'lumen-health.example' },
      system: { name: 'RadiAssist chest X-ray triage', version: '3.2.0' },
      models: [
        { name: 'radiassist-vit-l16.safetensors', method: 'file' },
        { name: 'radiassist-calibration', method: 'files' },
      ],
      scope:
        'AI management system for the design, validation and post-market monitoring of the RadiAssist chest X-ray\n' +
        'triage system, including training-data governance and clinical performance monitoring.',
      standards: [ISO_42001, EU_AI_ACT],
      validFrom: today - days(200),
      validUntil: today - days(200) + years(3),
      firstDueBy: today - days(200) + years(1),
      events: [],
      intended: { status: 'active', surveillance: 'current' },
    },
    {
      number: 'DEMO-0002',
      organization: { name: 'Fjord Freight Logistics AS', domain: 'fjord-freight.example' },
      system: { name: 'RouteWise demand forecasting', version: '5.0.4' },
      models: [{ name: 'routewise-forecaster', method: 'files' }],
      scope: 'Development and operation of the RouteWise demand forecasting and fleet planning models.',
      standards: [ISO_42001, NIST_AI_RMF],
      validFrom: today - days(420),
      validUntil: today - days(420) + years(3),
      firstDueBy: today - days(420) + years(1),
      events: [
        {
          kind: 'surveillance-audit',
          date: today - days(60),
          nextDueBy: today - days(420) + years(2),
          outcome: 'passed',
          auditor: 'M. Lindqvist (lead auditor)',
        },
      ],
      intended: { status: 'active', surveillance: 'current' },
    },
    {
      number: 'DEMO-0003',
      organization: { name: 'Castellan Insurance plc', domain: 'castellan-insurance.example' },
      system: { name: 'ClaimSense fraud scoring', version: '2.7.1' },
      models: [
        { name: 'claimsense-gbm.onnx', method: 'file' },
        { name: 'claimsense-text-encoder', method: 'files' },
      ],
      scope:
        'Risk assessment and fraud scoring of life and health insurance claims (EU AI Act Annex III, point 5(c)),\n' +
        'including human review of every adverse decision.',
      standards: [ISO_42001, EU_AI_ACT],
      validFrom: today - days(345),
      validUntil: today - days(345) + years(3),
      firstDueBy: today + days(20),
      events: [],
      intended: { status: 'active', surveillance: 'due' },
    },
    {
      number: 'DEMO-0004',
      organization: { name: 'Brightpath Learning GmbH', domain: 'brightpath-learning.example' },
      system: { name: 'EssayCoach automated grading', version: '1.9.0' },
      models: [{ name: 'essaycoach-grader.safetensors', method: 'file' }],
      scope: 'Evaluation of learning outcomes in secondary education (EU AI Act Annex III, point 3(b)).',
      standards: [ISO_42001, NIST_AI_RMF],
      validFrom: today - days(400),
      validUntil: today - days(400) + years(3),
      firstDueBy: today - days(35),
      events: [],
      intended: { status: 'active', surveillance: 'overdue' },
    },
    {
      number: 'DEMO-0005',
      organization: { name: 'Orbital Retail SA', domain: 'orbital-retail.example' },
      system: { name: 'ShelfVision store analytics', version: '4.1.2' },
      models: [{ name: 'shelfvision-detector', method: 'files' }],
      scope: 'In-store shelf monitoring and footfall analytics in 140 stores (no biometric identification).',
      standards: [ISO_42001],
      validFrom: today - days(500),
      validUntil: today - days(500) + years(3),
      firstDueBy: today - days(135),
      events: [
        {
          kind: 'suspended',
          reason: 'Surveillance audit not performed within the agreed period (ISO/IEC 17021-1); suspended until it is held.',
        },
      ],
      intended: { status: 'suspended', surveillance: 'overdue' },
    },
    {
      number: 'DEMO-0006',
      organization: { name: 'Quillon Credit Bank AG', domain: 'quillon-bank.example' },
      system: { name: 'CrediScore creditworthiness assessment', version: '6.0.0' },
      models: [{ name: 'crediscore-model.safetensors', method: 'file' }],
      scope: 'Creditworthiness assessment of natural persons for consumer loans (EU AI Act Annex III, point 5(b)).',
      standards: [ISO_42001, EU_AI_ACT, NIST_AI_RMF],
      validFrom: today - days(300),
      validUntil: today - days(300) + years(3),
      firstDueBy: today - days(300) + years(1),
      events: [
        {
          kind: 'revoked',
          reason:
            'A special audit found a production model whose digest is not among the certified models; the organization\n' +
            'did not restore the certified configuration within the agreed period.',
        },
      ],
      intended: { status: 'revoked', surveillance: 'current' },
    },
    {
      number: 'DEMO-0007',
      organization: { name: 'Harbor City Municipal Services', domain: 'harbor-city.example' },
      system: { name: 'PermitBot citizen assistant', version: '2.0.3' },
      models: [{ name: 'permitbot-llm-adapter', method: 'files' }],
      scope: 'Conversational assistant answering questions on building permits; no automated decisions.',
      standards: [ISO_42001, NIST_AI_RMF],
      validFrom: today - days(60) - years(3),
      validUntil: today - days(60),
      firstDueBy: today - days(60) - years(2),
      events: [
        {
          kind: 'surveillance-audit',
          date: today - days(75) - years(2),
          nextDueBy: today - days(60) - years(1),
          outcome: 'passed-with-findings',
          auditor: 'R. Okafor (lead auditor)',
        },
      ],
      // Certified three years ago and never recertified: expired; its last audit's next due date has passed too.
      intended: { status: 'expired', surveillance: 'overdue' },
    },
    {
      number: 'DEMO-0008',
      organization: { name: 'Aurora Grid Oy', domain: 'aurora-grid.example' },
      system: { name: 'GridSight load balancing', version: '1.0.0' },
      models: [
        { name: 'gridsight-forecast.onnx', method: 'file' },
        { name: 'gridsight-dispatch-policy', method: 'files' },
      ],
      scope:
        'Load forecasting and dispatch recommendations for the electricity distribution network\n' +
        '(critical infrastructure, EU AI Act Annex III, point 2).',
      standards: [ISO_42001, EU_AI_ACT],
      validFrom: today + days(14),
      validUntil: today + days(14) + years(3),
      firstDueBy: today + days(14) + years(1),
      events: [],
      intended: { status: 'not-yet-valid', surveillance: 'current' },
    },
  ];
}

/** A certificate draft for managed signing: the registry fills `@context`, `type`, `id` and `issuer`. */
function draftOf(spec: DemoSpec): JsonObject {
  return {
    validFrom: iso(spec.validFrom),
    validUntil: iso(spec.validUntil),
    credentialSubject: {
      type: 'CertifiedAISystem',
      organization: { name: spec.organization.name, identifiers: [{ scheme: 'domain', value: spec.organization.domain }] },
      system: { name: spec.system.name, version: spec.system.version },
      models: spec.models.map((m) => ({
        name: m.name,
        digest: demoDigest(`${spec.number}/${m.name}`),
        serialization: { method: m.method, hashType: 'sha256' },
      })),
      certificate: {
        number: spec.number,
        scope: spec.scope,
        standards: spec.standards,
        accreditation: ACCREDITATION,
        surveillance: { intervalMonths: 12, firstDueBy: iso(spec.firstDueBy) },
        evidence: [
          { name: 'stage-2-audit-report.pdf', digest: demoDigest(`${spec.number}/stage-2-audit-report.pdf`) },
          { name: 'statement-of-applicability.pdf', digest: demoDigest(`${spec.number}/statement-of-applicability.pdf`) },
        ],
      },
    },
  };
}

/** An event draft for managed signing: the registry fills `type`, `certificate` and `previous`. */
function eventDraftOf(event: DemoEvent, now: number): JsonObject {
  if (event.kind === 'surveillance-audit') {
    return {
      kind: event.kind,
      effective: iso(now),
      audit: { outcome: event.outcome, date: iso(event.date), nextDueBy: iso(event.nextDueBy), auditor: event.auditor },
    };
  }
  return { kind: event.kind, effective: iso(now), reason: event.reason };
}

/** An in-process actor; its token id is unique like any real token's (it is burnt with the write). */
function actor(issuer: string, keyId: string, now: number): Actor {
  return { issuer, keyId, jti: `${issuer} demo-${toHex(randomBytes(12))}`, expiresAt: now + 5 * 60 * 1000 };
}

/**
 * Seeds the demo on an empty registry (no issuer registered yet) and returns its certificates with their verdicts;
 * returns null, writing nothing, when the registry already holds any issuer.
 */
export async function seedDemo(services: DemoServices, now = Date.now()): Promise<DemoCertificate[] | null> {
  const { registry, views, baseUrl } = services;
  if ((await views.issuers()).length > 0) return null;
  await registry.registerIssuer(actor(OPERATOR, OPERATOR, now), {
    slug: DEMO_ISSUER,
    name: DEMO_ISSUER_NAME,
    accreditation: ACCREDITATION,
    managedSigning: true,
    keys: [],
  });
  const specs = demoSpecs(now - (now % DAY));
  // Certificates in parallel (the sequencer batches them); each one's events in order, as its hash chain requires.
  await Promise.all(
    specs.map(async (spec) => {
      await registry.issueCertificate(actor(DEMO_ISSUER, MANAGED_KEY_ID, now), draftOf(spec));
      for (const event of spec.events) {
        await registry.recordEvent(actor(DEMO_ISSUER, MANAGED_KEY_ID, now), DEMO_ISSUER, spec.number, eventDraftOf(event, now));
      }
    }),
  );
  const at = Date.now();
  return Promise.all(
    specs.map(async (spec): Promise<DemoCertificate> => {
      const view = await views.certificate(DEMO_ISSUER, spec.number, at);
      return {
        number: spec.number,
        verifyUrl: certificateIdOf(baseUrl, DEMO_ISSUER, spec.number),
        organization: spec.organization.name,
        system: spec.system.name,
        intended: spec.intended,
        status: view?.verdict.status ?? null,
        surveillance: view?.verdict.surveillance ?? null,
        valid: view?.verdict.valid ?? false,
      };
    }),
  );
}

/** The lines `npm start` prints after seeding: one per certificate, its status and verify URL. */
export function formatDemo(certificates: readonly DemoCertificate[]): string[] {
  return [
    `Demo data (CERTRAIL_DEMO=0 turns it off): certification body ${DEMO_ISSUER} "${DEMO_ISSUER_NAME}", managed signing`,
    ...certificates.map((c) => {
      const state = `${c.status ?? 'unknown'}${c.surveillance && c.surveillance !== 'current' ? `, surveillance ${c.surveillance}` : ''}`;
      return `  ${state.padEnd(32)} ${c.verifyUrl}  ${c.organization}, ${c.system}`;
    }),
  ];
}

/**
 * What `npm start` runs once it is listening: unless `CERTRAIL_DEMO=0` (or the log refuses writes), seeds the demo
 * on an empty registry and returns the lines to print; returns no lines when nothing was seeded.
 */
export async function seedDemoOnStart(
  services: DemoServices & { writeRefusal: string | null },
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  if (env.CERTRAIL_DEMO === '0' || services.writeRefusal !== null) return [];
  const certificates = await seedDemo(services);
  return certificates ? formatDemo(certificates) : [];
}
