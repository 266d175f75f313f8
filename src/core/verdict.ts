// The verdict every verifier returns (API, verify page, SDK, CLI): named checks, each with a detail, and `valid` only
// when all of them pass (DESIGN §Interfaces, Verdict).
import type { CertificateState, CertificateStatus, SurveillanceState } from './status.js';

/** `checkpoint` and `witnesses` appear in offline (bundle) verdicts, where the checkpoint is not taken on trust. */
export type CheckName =
  | 'checkpoint'
  | 'witnesses'
  | 'signature'
  | 'issuer-key'
  | 'logged'
  | 'events'
  | 'status'
  | 'validity'
  | 'surveillance';

export interface Check {
  name: CheckName;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  valid: boolean;
  /** Null when the certificate could not be read far enough to have a status. */
  status: CertificateStatus | null;
  surveillance: SurveillanceState | null;
  surveillanceDue: string | null;
  validFrom: string | null;
  validUntil: string | null;
  checks: Check[];
}

export function check(name: CheckName, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

/** The checks that follow from status alone: status, validity period and surveillance. */
export function stateChecks(state: CertificateState): Check[] {
  const inForce = state.status !== 'revoked' && state.status !== 'suspended';
  return [
    check(
      'status',
      state.status === 'active',
      state.revoked
        ? `revoked: ${state.revoked.reason}`
        : state.suspended
          ? `suspended: ${state.suspended.reason}`
          : state.status,
    ),
    check(
      'validity',
      !inForce || (state.status !== 'expired' && state.status !== 'not-yet-valid'),
      state.status === 'expired'
        ? `expired on ${state.validUntil}`
        : state.status === 'not-yet-valid'
          ? `valid from ${state.validFrom}`
          : `valid from ${state.validFrom} until ${state.validUntil}`,
    ),
    check(
      'surveillance',
      state.surveillance !== 'overdue',
      state.surveillance === 'overdue'
        ? `surveillance audit overdue since ${state.surveillanceDue}`
        : `next surveillance audit due by ${state.surveillanceDue}${state.surveillance === 'due' ? ' (due within 30 days)' : ''}`,
    ),
  ];
}

export function verdictOf(checks: Check[], state: CertificateState | null): Verdict {
  return {
    valid: state !== null && checks.every((c) => c.ok),
    status: state?.status ?? null,
    surveillance: state?.surveillance ?? null,
    surveillanceDue: state?.surveillanceDue ?? null,
    validFrom: state?.validFrom ?? null,
    validUntil: state?.validUntil ?? null,
    checks,
  };
}
