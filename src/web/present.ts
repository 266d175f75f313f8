// How a certificate is shown: the headline verdict, the checks, the certificate's facts and its timeline. Shared by
// the server-rendered verify page and the browser script, which re-renders the same markup from the bundle it
// verified itself, so what a visitor reads after the in-browser check is exactly what was signed and logged.
//
// Pure and deterministic (no DOM, no locale-dependent formatting): the server and the browser produce the same
// markup for the same input. Every value is escaped by `html` (certificate fields are attacker-controlled).
import type { Certificate, StatusEvent } from '../core/credential.js';
import type { CertificateState, CertificateStatus, SurveillanceState } from '../core/status.js';
import { html, join, raw, type SafeHtml } from './html.js';

/** A check as shown: the core verdict's checks, plus the page's own (e.g. that the bundle is for this address). */
export interface ShownCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerdictLike {
  status: CertificateStatus | null;
  surveillance: SurveillanceState | null;
  surveillanceDue: string | null;
  checks: readonly ShownCheck[];
}

/** The headline states, in the words of the issue: one of these is shown in large type and colour. */
export type HeadlineState =
  | 'valid'
  | 'suspended'
  | 'revoked'
  | 'expired'
  | 'not-yet-valid'
  | 'surveillance-overdue'
  | 'not-authentic';

export interface Headline {
  state: HeadlineState;
  label: string;
  /** One sentence saying what the state means for a relying party. */
  meaning: string;
}

/** Checks whose failure means the document cannot be trusted at all (as opposed to a lifecycle state). */
export const AUTHENTICITY_CHECKS: ReadonlySet<string> = new Set(['address', 'checkpoint', 'witnesses', 'signature', 'issuer-key', 'logged', 'events']);

export const CHECK_LABELS: Readonly<Record<string, string>> = {
  address: 'Certificate matches this address',
  checkpoint: 'Log checkpoint signed by the log key',
  witnesses: 'Witness cosignatures',
  signature: "Certification body's signature",
  'issuer-key': 'Signing key registered and valid when logged',
  logged: 'Included in the public log (inclusion proof)',
  events: 'Status events signed, chained and logged',
  status: 'Status',
  validity: 'Validity period',
  surveillance: 'Surveillance audits',
};

const HEADLINES: Readonly<Record<HeadlineState, Omit<Headline, 'state'>>> = {
  valid: { label: 'Valid', meaning: 'The certificate is authentic, logged, in force and its surveillance audits are up to date.' },
  suspended: { label: 'Suspended', meaning: 'The certification body has suspended this certificate: it is not in force until reinstated.' },
  revoked: { label: 'Revoked', meaning: 'The certification body has withdrawn this certificate for good.' },
  expired: { label: 'Expired', meaning: 'The validity period of this certificate has ended.' },
  'not-yet-valid': { label: 'Not yet valid', meaning: 'The validity period of this certificate has not started yet.' },
  'surveillance-overdue': {
    label: 'Surveillance overdue',
    meaning: 'A required surveillance audit is past its due date; the certificate should not be relied on until it is held.',
  },
  'not-authentic': {
    label: 'Not authentic',
    meaning: 'This certificate failed a cryptographic check: it is not what the certification body signed and logged.',
  },
};

/** The headline of a verdict: authenticity first, then lifecycle status, then surveillance. */
export function headlineOf(verdict: VerdictLike): Headline {
  const authentic = verdict.checks.every((c) => c.ok || !AUTHENTICITY_CHECKS.has(c.name));
  const state: HeadlineState = !authentic || verdict.status === null
    ? 'not-authentic'
    : verdict.status !== 'active'
      ? verdict.status
      : verdict.surveillance === 'overdue'
        ? 'surveillance-overdue'
        : 'valid';
  return { state, ...HEADLINES[state] };
}

/** The headline state of a search result, which carries only the summary of a verdict. */
export function summaryState(summary: { status: CertificateStatus | null; surveillance: SurveillanceState | null; valid: boolean }): Headline {
  const state: HeadlineState = summary.status === null
    ? 'not-authentic'
    : summary.status !== 'active'
      ? summary.status
      : summary.surveillance === 'overdue'
        ? 'surveillance-overdue'
        : summary.valid
          ? 'valid'
          : 'not-authentic';
  return { state, ...HEADLINES[state] };
}

const ICONS: Readonly<Record<HeadlineState, string>> = {
  valid: '✓',
  suspended: '❚❚',
  revoked: '✕',
  expired: '◔',
  'not-yet-valid': '…',
  'surveillance-overdue': '!',
  'not-authentic': '✕',
};

/** A small status badge (search results, issuer page). */
export function badge(headline: Headline): SafeHtml {
  return html`<span class="badge badge--${headline.state}" data-state="${headline.state}"><span aria-hidden="true">${ICONS[headline.state]}</span> ${headline.label}</span>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates: UTC, English month names, no Intl (same output everywhere)

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 24 * 60 * 60 * 1000;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function toDate(value: string | number): Date | null {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** `12 Mar 2026` (UTC) in a <time> element carrying the exact instant. */
export function dateHtml(value: string | number): SafeHtml {
  const d = toDate(value);
  if (!d) return html`${String(value)}`;
  const text = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

/** `12 Mar 2026, 14:03 UTC`. */
export function dateTimeHtml(value: string | number): SafeHtml {
  const d = toDate(value);
  if (!d) return html`${String(value)}`;
  const text = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

/** `in 20 days`, `35 days ago`, `today`. */
export function relativeDays(value: string, now: number): string {
  const d = toDate(value);
  if (!d) return '';
  const days = Math.round((d.getTime() - now) / DAY_MS);
  if (days === 0) return 'today';
  const n = Math.abs(days);
  const unit = n === 1 ? 'day' : 'days';
  return days > 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

// ---------------------------------------------------------------------------------------------------------------
// The verdict banner and the checks

export interface VerdictBanner {
  headline: Headline;
  /** Who computed it: the registry (server) or the visitor's browser. */
  source: 'server' | 'browser' | 'checking';
  number: string;
  issuerName: string;
  surveillance: SurveillanceState | null;
  surveillanceDue: string | null;
  now: number;
  /** Set when the browser's verdict differs from the registry's. */
  disagreement?: string | undefined;
  /** The labels of the checks that failed (browser verdicts). */
  failed?: readonly string[] | undefined;
  verifiedAt?: number | undefined;
  /** The certificate's state, for the when and why of a revocation, suspension, expiry or overdue audit. */
  state?: CertificateState | undefined;
}

/** One line on when (and why) the headline state began, from the certificate's state. */
function lifecycleNote(state: HeadlineState, s: CertificateState | undefined): SafeHtml | null {
  if (!s) return null;
  const reason = (r: string) => (r ? html`: ${r}` : null);
  switch (state) {
    case 'revoked':
      return s.revoked ? html`<p class="verdict__note">Revoked ${dateHtml(s.revoked.effective)}${reason(s.revoked.reason)}</p>` : null;
    case 'suspended':
      return s.suspended ? html`<p class="verdict__note">Suspended since ${dateHtml(s.suspended.effective)}${reason(s.suspended.reason)}</p>` : null;
    case 'expired':
      return html`<p class="verdict__note">Expired ${dateHtml(s.validUntil)}.</p>`;
    case 'not-yet-valid':
      return html`<p class="verdict__note">Valid from ${dateHtml(s.validFrom)}.</p>`;
    case 'surveillance-overdue':
      return html`<p class="verdict__note">The surveillance audit was due by ${dateHtml(s.surveillanceDue)}.</p>`;
    default:
      return null;
  }
}

export function renderVerdict(v: VerdictBanner): SafeHtml {
  const due = v.headline.state === 'valid' && v.surveillance === 'due' && v.surveillanceDue
    ? html`<p class="verdict__note">Surveillance audit due ${relativeDays(v.surveillanceDue, v.now)}, by ${dateHtml(v.surveillanceDue)}.</p>`
    : null;
  const source = v.source === 'browser'
    ? html`<p class="verdict__source" data-source="browser">Checked in your browser${v.verifiedAt === undefined ? '' : html` at ${dateTimeHtml(v.verifiedAt)}`}: ${
      v.failed && v.failed.length > 0
        ? html`<strong>failed: ${v.failed.join('; ')}</strong>.`
        : "the certification body's signatures, the log inclusion proofs and the checkpoint verified against the registry's published log key."
    }</p>`
    : v.source === 'checking'
      ? html`<p class="verdict__source" data-source="checking">The registry's verdict. Checking the signatures and log proofs in your browser…</p>`
      : html`<p class="verdict__source" data-source="server">The registry's verdict. Your browser has not checked it (JavaScript is off or the check could not run).</p>`;
  return html`<div class="verdict__inner">
<p class="verdict__icon" aria-hidden="true">${ICONS[v.headline.state]}</p>
<div>
<p class="verdict__kicker">AI security certificate ${v.number}${v.issuerName ? ` · ${v.issuerName}` : ''}</p>
<h1 class="verdict__label" id="verdict-label">${v.headline.label}</h1>
<p class="verdict__meaning">${v.headline.meaning}</p>
${due}
${lifecycleNote(v.headline.state, v.state)}
${v.disagreement ? html`<p class="verdict__warning" role="alert">${v.disagreement}</p>` : null}
${source}
</div>
</div>`;
}

export function renderChecks(checks: readonly ShownCheck[], source: 'server' | 'browser' | 'checking'): SafeHtml {
  const title = source === 'browser' ? 'Checked in your browser' : "The registry's checks";
  const intro = source === 'browser'
    ? 'Your browser downloaded the offline proof bundle and verified it with the same code as the Certrail SDK, trusting only the log key published at /.well-known/certrail.'
    : 'Computed by the registry. With JavaScript, your browser repeats these checks itself from the offline proof bundle.';
  return html`<h2 id="checks-title">${title}</h2>
<p class="muted">${intro}</p>
<ul class="checks" data-source="${source}">
${checks.map((c) => html`<li class="check check--${c.ok ? 'ok' : 'fail'}" data-check="${c.name}" data-ok="${String(c.ok)}">
<span class="check__mark" aria-hidden="true">${c.ok ? '✓' : '✗'}</span>
<span class="check__text"><strong>${CHECK_LABELS[c.name] ?? c.name}</strong><span class="visually-hidden">: ${c.ok ? 'passed' : 'failed'}</span><br><span class="check__detail">${c.detail}</span></span>
</li>`)}
</ul>`;
}

// ---------------------------------------------------------------------------------------------------------------
// The certificate's facts and timeline

export interface LoggedEvent {
  index: number;
  loggedAt: number;
  event: StatusEvent;
}

export interface CertificateModel {
  /** The certificate id, which is its verify URL. */
  id: string;
  issuerSlug: string;
  credential: Certificate;
  issued: { index: number; loggedAt: number };
  events: readonly LoggedEvent[];
  state: CertificateState;
}

const OUTCOMES: Readonly<Record<string, string>> = {
  passed: 'passed',
  'passed-with-findings': 'passed with findings',
  failed: 'failed',
};

function timelineItem(kind: string, title: string, loggedAt: number, index: number, body: SafeHtml | null, effective?: string): SafeHtml {
  return html`<li class="timeline__item timeline__item--${kind}" data-kind="${kind}">
<p class="timeline__title"><strong>${title}</strong></p>
<p class="timeline__meta">${effective ? html`Effective ${dateHtml(effective)} · ` : null}logged ${dateTimeHtml(loggedAt)} · log entry #${index}</p>
${body}
</li>`;
}

function eventItem(e: LoggedEvent): SafeHtml {
  const ev = e.event;
  const reason = ev.reason ? html`<p class="timeline__text">Reason: ${ev.reason}</p>` : null;
  switch (ev.kind) {
    case 'suspended':
      return timelineItem('suspended', 'Suspended', e.loggedAt, e.index, reason, ev.effective);
    case 'reinstated':
      return timelineItem('reinstated', 'Reinstated', e.loggedAt, e.index, reason, ev.effective);
    case 'revoked':
      return timelineItem('revoked', 'Revoked', e.loggedAt, e.index, reason, ev.effective);
    case 'surveillance-audit': {
      const a = ev.audit;
      const body = html`<p class="timeline__text">Outcome: <strong class="outcome outcome--${a.outcome}">${OUTCOMES[a.outcome] ?? a.outcome}</strong>${a.date ? html` · audited ${dateHtml(a.date)}` : null}${a.auditor ? html` · ${a.auditor}` : null}</p>
<p class="timeline__text">Next audit due by ${dateHtml(a.nextDueBy)}</p>${reason}`;
      return timelineItem('surveillance-audit', 'Surveillance audit', e.loggedAt, e.index, body, ev.effective);
    }
    case 'recertified':
      return timelineItem('recertified', 'Recertified', e.loggedAt, e.index, html`<p class="timeline__text">Valid until ${dateHtml(ev.validUntil)}</p>${reason}`, ev.effective);
    case 'scope-changed':
      return timelineItem('scope-changed', 'Scope changed', e.loggedAt, e.index, html`<p class="timeline__text pre">${ev.scope}</p>${reason}`, ev.effective);
  }
}

function copyButton(value: string, label: string): SafeHtml {
  // Hidden until the script runs (copying needs JavaScript); the value stays selectable text either way.
  return html`<button type="button" class="copy" data-copy="${value}" aria-label="${label}" hidden>Copy</button>`;
}

/** The certificate's facts, models, certification body and timeline; `authentic: false` heads them with a warning. */
export function renderDetails(m: CertificateModel, basePath: string, now: number, authentic = true): SafeHtml {
  const c = m.credential;
  const s = c.credentialSubject;
  const cert = s.certificate;
  const scopeChanged = m.state.scope !== cert.scope;
  const accreditation = cert.accreditation;
  const due = m.state.surveillanceDue;
  const rows: SafeHtml[] = [
    html`<div class="fact"><dt>Certificate number</dt><dd><code>${cert.number}</code></dd></div>`,
    html`<div class="fact"><dt>Next surveillance audit</dt><dd>${Date.parse(due) < now ? 'was due by' : 'due by'} ${dateHtml(due)} <span class="muted">(${relativeDays(due, now)}; every ${cert.surveillance.intervalMonths} months)</span></dd></div>`,
    html`<div class="fact"><dt>Valid from</dt><dd>${dateHtml(m.state.validFrom)}</dd></div>`,
    html`<div class="fact"><dt>Valid until</dt><dd>${dateHtml(m.state.validUntil)}</dd></div>`,
    html`<div class="fact fact--wide"><dt>Scope${scopeChanged ? ' (as changed)' : ''}</dt><dd class="pre" data-field="scope">${m.state.scope}</dd></div>`,
    html`<div class="fact fact--wide"><dt>Standards</dt><dd><ul class="standards">${cert.standards.map(
      (st) => html`<li><strong>${st.id}</strong>${st.title ? html`<br><span class="muted">${st.title}</span>` : null}</li>`,
    )}</ul></dd></div>`,
  ];
  const identifiers = s.organization.identifiers ?? [];
  const method = c.proof.verificationMethod;
  const keyId = method.slice(method.lastIndexOf('#') + 1);
  const issuerHref = `${basePath}/issuers/${m.issuerSlug}`;
  return html`${authentic ? null : html`<p class="notice notice--danger" role="alert">The details below are what the registry served. They failed the checks: they are not what the certification body signed and logged. Do not rely on them.</p>`}
<section class="card" aria-labelledby="subject-title">
<h2 id="subject-title" class="visually-hidden">Certified organization and AI system</h2>
<div class="subject">
<div><p class="eyebrow">Certified organization</p><p class="subject__name" data-field="organization">${s.organization.name}</p>
${identifiers.length > 0 ? html`<p class="muted">${join(identifiers.map((i) => html`${i.scheme}: ${i.value}`), ' · ')}</p>` : null}</div>
<div><p class="eyebrow">AI system</p><p class="subject__name" data-field="system">${s.system.name}</p>
${s.system.version ? html`<p class="muted">version ${s.system.version}</p>` : null}</div>
</div>
<dl class="facts">${rows}</dl>
</section>
<section class="card" aria-labelledby="models-title">
<h2 id="models-title">Certified models</h2>
<p class="muted screen-only">Digests follow OpenSSF model signing: a file is its SHA-256; a directory hashes its files' digests in path order. <a href="${basePath}/search">Check a model file</a></p>
<ul class="models">${s.models.map((model) => html`<li class="model">
<p class="model__name"><strong>${model.name}</strong> <span class="muted">(${model.serialization.method === 'file' ? 'single file' : 'directory'})</span></p>
<p class="digest-row"><code class="digest" data-digest="${model.digest}">${model.digest}</code>${copyButton(model.digest, `Copy the digest of ${model.name}`)}</p>
</li>`)}</ul>
${cert.evidence && cert.evidence.length > 0
    ? html`<details class="evidence"><summary>Audit evidence (${cert.evidence.length} document${cert.evidence.length === 1 ? '' : 's'})</summary><ul class="models">${cert.evidence.map(
      (ev) => html`<li class="model"><p class="model__name">${ev.name}</p><p class="digest-row"><code class="digest">${ev.digest}</code>${copyButton(ev.digest, `Copy the digest of ${ev.name}`)}</p></li>`,
    )}</ul></details>`
    : null}
</section>
<section class="card" aria-labelledby="cb-title">
<h2 id="cb-title">Certification body</h2>
<p class="subject__name"><a href="${issuerHref}">${c.issuer.name}</a></p>
${accreditation
    ? html`<dl class="facts">
<div class="fact"><dt>Accredited by</dt><dd>${accreditation.url ? html`<a href="${accreditation.url}" rel="noopener noreferrer">${accreditation.body}</a>` : accreditation.body}</dd></div>
${accreditation.number ? html`<div class="fact"><dt>Accreditation number</dt><dd><code>${accreditation.number}</code></dd></div>` : null}
${accreditation.scope ? html`<div class="fact fact--wide"><dt>Accreditation scope</dt><dd>${accreditation.scope}</dd></div>` : null}
</dl>`
    : html`<p class="muted">The certificate names no accreditation.</p>`}
<p class="muted screen-only">Signed with key <code>${keyId}</code> · <a href="${issuerHref}">keys and certificates of this body</a></p>
</section>
<section class="card" aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline</h2>
<ol class="timeline">
${timelineItem('issued', 'Issued', m.issued.loggedAt, m.issued.index, html`<p class="timeline__text">Valid ${dateHtml(c.validFrom)} – ${dateHtml(c.validUntil)}; first surveillance audit due by ${dateHtml(cert.surveillance.firstDueBy)}</p>`)}
${m.events.map(eventItem)}
</ol>
</section>`;
}

/** Single-quotes a word for a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The "Add to procurement check" commands: the verdict of one certificate, and the batch API with it. */
export function procurementSnippet(id: string, apiBase: string): { single: string; batch: string } {
  return {
    single: `curl -s -H 'Accept: application/json' ${shellQuote(id)}`,
    batch: `curl -s ${shellQuote(`${apiBase}/verify`)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${shellQuote(JSON.stringify({ items: [id] }))}`,
  };
}

/** A constant for markup that has no user data. */
export const NOSCRIPT_NOTE = raw('<noscript><p class="notice">JavaScript is off: the verdict above is the registry\'s, not checked by your browser.</p></noscript>');
