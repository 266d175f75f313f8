// Certificate status as a pure function of (certificate, logged events, now), and the lifecycle rules that decide
// which event may follow which. Every party computes status with this one function: the API, the verify page, the
// SDK on a bundle and the monitor replaying the log, so they cannot disagree.
//
// Time: an event counts from its `loggedAt` (the log's sequencing time), never from a time the issuer claims;
// `effective` is reported but cannot backdate or postdate an event's force.
import type { Certificate, StatusEvent as StatusEventDocument } from './credential.js';
import { RegistryError } from './errors.js';

export type CertificateStatus = 'active' | 'suspended' | 'revoked' | 'expired' | 'not-yet-valid';
export type SurveillanceState = 'current' | 'due' | 'overdue';
export type EventKind = 'suspended' | 'reinstated' | 'revoked' | 'surveillance-audit' | 'recertified' | 'scope-changed';

/** The parts of a certificate that status depends on. */
export interface StatusCertificate {
  validFrom: string;
  validUntil: string;
  scope: string;
  surveillance: { intervalMonths: number; firstDueBy: string };
}

/** The parts of a status event that status depends on, with the entry's sequencing time. */
export interface StatusEvent {
  kind: EventKind;
  loggedAt: number;
  effective: string;
  reason?: string | undefined;
  audit?: { outcome: 'passed' | 'passed-with-findings' | 'failed'; nextDueBy: string } | undefined;
  validUntil?: string | undefined;
  scope?: string | undefined;
}

export interface CertificateState {
  status: CertificateStatus;
  surveillance: SurveillanceState;
  /** When the next surveillance audit is due (ISO 8601). */
  surveillanceDue: string;
  /** Validity after recertifications. */
  validFrom: string;
  validUntil: string;
  scope: string;
  /** Set once revoked: the revocation's reason and times. */
  revoked?: { reason: string; effective: string; loggedAt: number };
  /** Set while suspended. */
  suspended?: { reason: string; effective: string; loggedAt: number };
}

/** ISO/IEC 17021-1 practice: an audit is "due" in the 30 days before its date and "overdue" after it. */
export const SURVEILLANCE_DUE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

function millis(iso: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new RegistryError('bad-request', `not a date-time: ${iso}`);
  return t;
}

/**
 * Replays the events logged at or before `now` (in log order) over the certificate. Priority when several apply:
 * revoked > suspended > expired > not-yet-valid > active.
 */
export function certificateState(certificate: StatusCertificate, events: readonly StatusEvent[], now: number): CertificateState {
  let validUntil = certificate.validUntil;
  let scope = certificate.scope;
  let surveillanceDue = certificate.surveillance.firstDueBy;
  let revoked: CertificateState['revoked'];
  let suspended: CertificateState['suspended'];
  for (const event of events) {
    if (event.loggedAt > now) break;
    const at = { reason: event.reason ?? '', effective: event.effective, loggedAt: event.loggedAt };
    switch (event.kind) {
      case 'revoked':
        revoked = at;
        break;
      case 'suspended':
        suspended = at;
        break;
      case 'reinstated':
        suspended = undefined;
        break;
      case 'surveillance-audit':
        // A failed audit leaves the due date where it was: the certificate stays due (or overdue) until one passes.
        if (event.audit && event.audit.outcome !== 'failed') surveillanceDue = event.audit.nextDueBy;
        break;
      case 'recertified':
        if (event.validUntil) validUntil = event.validUntil;
        break;
      case 'scope-changed':
        if (event.scope) scope = event.scope;
        break;
    }
  }
  const status: CertificateStatus = revoked
    ? 'revoked'
    : suspended
      ? 'suspended'
      : now >= millis(validUntil)
        ? 'expired'
        : now < millis(certificate.validFrom)
          ? 'not-yet-valid'
          : 'active';
  const due = millis(surveillanceDue);
  const surveillance: SurveillanceState = now > due ? 'overdue' : now >= due - SURVEILLANCE_DUE_WINDOW_MS ? 'due' : 'current';
  return {
    status,
    surveillance,
    surveillanceDue,
    validFrom: certificate.validFrom,
    validUntil,
    scope,
    ...(revoked ? { revoked } : {}),
    ...(suspended ? { suspended } : {}),
  };
}

/**
 * The lifecycle rules (ISO/IEC 17021-1 practice): nothing follows a revocation; a suspended certificate can only be
 * reinstated, revoked or audited; reinstatement only ends a suspension. Returns null when `kind` may follow, or why not.
 */
export function transitionError(state: CertificateState, kind: EventKind): string | null {
  if (state.revoked) return 'the certificate is revoked; no event may follow a revocation';
  const suspended = state.suspended !== undefined;
  switch (kind) {
    case 'reinstated':
      return suspended ? null : 'only a suspended certificate can be reinstated';
    case 'suspended':
      return suspended ? 'the certificate is already suspended' : null;
    case 'recertified':
    case 'scope-changed':
      return suspended ? `a suspended certificate cannot be ${kind === 'recertified' ? 'recertified' : 'changed in scope'}; reinstate it first` : null;
    case 'revoked':
    case 'surveillance-audit':
      return null;
  }
}

/** The status-relevant facts of a certificate. */
export function certificateFacts(credential: Certificate): StatusCertificate {
  return {
    validFrom: credential.validFrom,
    validUntil: credential.validUntil,
    scope: credential.credentialSubject.certificate.scope,
    surveillance: credential.credentialSubject.certificate.surveillance,
  };
}

/** The status-relevant facts of a logged status event. */
export function statusInputOf(event: StatusEventDocument, loggedAt: number): StatusEvent {
  return {
    kind: event.kind,
    loggedAt,
    effective: event.effective,
    reason: event.reason,
    audit: event.kind === 'surveillance-audit' ? event.audit : undefined,
    validUntil: event.kind === 'recertified' ? event.validUntil : undefined,
    scope: event.kind === 'scope-changed' ? event.scope : undefined,
  };
}
