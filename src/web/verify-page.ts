// The verify page's script (browser only; bundled by scripts/build/page.ts into public/assets/verify-page.js).
//
// It does not take the server's word: it fetches the log key from /.well-known/certrail and the certificate's
// offline bundle, verifies the bundle with the SDK's own `verifyBundle` (src/core/bundle.ts: checkpoint signature,
// every entry's inclusion proof, the issuer's key history and signatures, the event chain, status), and then
// re-renders the verdict, the checks and the certificate itself from the bytes it verified. A tampered certificate
// therefore shows as "Not authentic" whatever the server-rendered page claimed.
import { parseBundle, verifyBundle, type Bundle, type BundleVerdict } from '../core/bundle.js';
import { fromBase64, toHex } from '../core/bytes.js';
import { parseCheckpoint } from '../core/checkpoint.js';
import { certificateSchema, parseDocument, statusEventSchema } from '../core/credential.js';
import { decodeEntry, type LogEntry } from '../core/entry.js';
import { isJsonObject, parseJsonStrict, type JsonValue } from '../core/json.js';
import { leafHash, verifyInclusion } from '../core/merkle.js';
import { parseNote } from '../core/note.js';
import { certificateFacts, certificateState, statusInputOf } from '../core/status.js';
import { parseTlogProof } from '../core/tlog-proof.js';
import { html, type SafeHtml } from './html.js';
import {
  AUTHENTICITY_CHECKS,
  CHECK_LABELS,
  dateTimeHtml,
  headlineOf,
  renderChecks,
  renderDetails,
  renderVerdict,
  type CertificateModel,
  type HeadlineState,
  type ShownCheck,
} from './present.js';
import { revealCopyButtons, setUpCopyButtons } from './copy.js';

interface WellKnown {
  baseUrl: string;
  logVerifierKey: string;
  registryKey: string;
  /** The witness policy the registry publishes (cosignature/v1 verifier keys and how many must cosign). */
  witnesses: string[];
  quorum: number;
}

interface PageData {
  main: HTMLElement;
  basePath: string;
  issuer: string;
  number: string;
  serverState: string;
}

const FETCH_TIMEOUT_MS = 15_000;


function pageData(): PageData | null {
  const main = document.getElementById('main');
  if (!main || main.dataset.page !== 'verify') return null;
  // The certificate is named by the address bar, not by anything the server put into the page.
  const parts = location.pathname.split('/');
  const number = decodeURIComponent(parts.at(-1) ?? '');
  const issuer = decodeURIComponent(parts.at(-2) ?? '');
  return { main, basePath: main.dataset.basePath ?? '', issuer, number, serverState: main.dataset.serverState ?? '' };
}

/** Fetches with the defaults a `<link rel=preload as=fetch crossorigin>` uses, so the page's preloads are reused. */
async function fetchText(url: string): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const res = await fetch(url, { signal: controller.signal });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return await res.text();
  } finally {
    clearTimeout(timer);
  }
}

function wellKnownOf(value: JsonValue): WellKnown {
  if (!isJsonObject(value)) throw new Error('the discovery document is not a JSON object');
  const { baseUrl, logVerifierKey, registryKey } = value;
  if (typeof baseUrl !== 'string' || typeof logVerifierKey !== 'string' || typeof registryKey !== 'string') {
    throw new Error('the discovery document lacks baseUrl, logVerifierKey or registryKey');
  }
  const witnesses = Array.isArray(value.witnesses)
    ? value.witnesses.map((w) => (isJsonObject(w) && typeof w.vkey === 'string' ? w.vkey : typeof w === 'string' ? w : ''))
    : [];
  if (witnesses.includes('')) throw new Error('the discovery document lists a malformed witness');
  const quorum = typeof value.quorum === 'number' && Number.isSafeInteger(value.quorum) && value.quorum >= 0 ? value.quorum : 0;
  return { baseUrl, logVerifierKey, registryKey, witnesses, quorum };
}

/** The certificate as the verified bundle holds it (for display; verifyBundle has already judged these bytes). */
function modelOfBundle(bundle: Bundle, issuer: string, now: number): CertificateModel {
  const entries = bundle.entries.map((e) => ({ index: e.index, entry: decodeEntry(fromBase64(e.entry)) }));
  const issued = entries.find((e) => e.entry.kind === 'certificate.issued' && e.entry.body.id === bundle.certificate);
  if (!issued) throw new Error('the bundle holds no issuance of this certificate');
  const credential = parseDocument(certificateSchema, issued.entry.body);
  const events = entries
    .filter((e) => e.entry.kind === 'certificate.event' && e.entry.body.certificate === bundle.certificate)
    .sort((a, b) => a.index - b.index)
    .map((e) => ({ index: e.index, loggedAt: e.entry.loggedAt, event: parseDocument(statusEventSchema, e.entry.body) }));
  const state = certificateState(certificateFacts(credential), events.map((e) => statusInputOf(e.event, e.loggedAt)), now);
  return { id: bundle.certificate, issuerSlug: issuer, credential, issued: { index: issued.index, loggedAt: issued.entry.loggedAt }, events, state };
}

const ENTRY_LABELS: Readonly<Record<LogEntry['kind'], string>> = {
  'issuer.registered': 'Certification body registered',
  'issuer.key.added': 'Signing key added',
  'issuer.key.revoked': 'Signing key revoked',
  'certificate.issued': 'Certificate issued',
  'certificate.event': 'Status event',
};

/** Each bundle entry's inclusion proof against the checkpoint, listed one by one (the same core Merkle code). */
function renderProofs(bundle: Bundle, verdict: BundleVerdict, wellKnown: WellKnown): SafeHtml {
  const text = parseNote(bundle.checkpoint).text;
  const checkpoint = parseCheckpoint(text);
  const signed = verdict.checks.find((c) => c.name === 'checkpoint')?.ok === true;
  const rows = bundle.entries.map((e) => {
    let ok = false;
    let label = `Entry #${e.index}`;
    let when: SafeHtml | null = null;
    try {
      const bytes = fromBase64(e.entry);
      const entry = decodeEntry(bytes);
      label = `${ENTRY_LABELS[entry.kind]}${entry.kind === 'certificate.event' && typeof entry.body.kind === 'string' ? ` (${entry.body.kind})` : ''}`;
      when = dateTimeHtml(entry.loggedAt);
      const proof = parseTlogProof(e.tlogProof);
      ok = signed && proof.index === e.index && parseNote(proof.checkpoint).text === text
        && verifyInclusion(leafHash(bytes), e.index, checkpoint.size, proof.proof, checkpoint.root);
    } catch {
      ok = false;
    }
    return html`<li class="check check--${ok ? 'ok' : 'fail'}" data-entry="${e.index}" data-ok="${String(ok)}">
<span class="check__mark" aria-hidden="true">${ok ? '✓' : '✗'}</span>
<span class="check__text"><strong>#${e.index} ${label}</strong><span class="visually-hidden">: inclusion proof ${ok ? 'verified' : 'failed'}</span><br><span class="check__detail">logged ${when}</span></span>
</li>`;
  });
  return html`<h2 id="proofs-title">Inclusion proofs</h2>
<p class="muted">Each logged entry this certificate depends on, proven against the checkpoint of <code>${checkpoint.origin}</code> at tree size ${checkpoint.size}${signed ? ', whose signature verified' : ', whose signature did NOT verify'}.</p>
<ul class="checks">${rows}</ul>
<p class="muted">Root hash <code class="digest">${toHex(checkpoint.root)}</code><br>Log key <code class="digest">${wellKnown.logVerifierKey}</code></p>`;
}

function setVerdict(main: HTMLElement, state: HeadlineState, source: string, inner: SafeHtml): void {
  const section = document.getElementById('verdict');
  if (!section) return;
  section.className = `verdict verdict--${state}`;
  section.dataset.state = state;
  section.dataset.source = source;
  section.innerHTML = inner.value;
  main.dataset.verdict = state;
}

const STATE_LABELS: Readonly<Record<string, string>> = {
  valid: 'Valid',
  suspended: 'Suspended',
  revoked: 'Revoked',
  expired: 'Expired',
  'not-yet-valid': 'Not yet valid',
  'surveillance-overdue': 'Surveillance overdue',
  'not-authentic': 'Not authentic',
};

async function check(page: PageData): Promise<void> {
  const { main, basePath, issuer, number } = page;
  // Signatures are checked with WebCrypto (Ed25519, or SHA-512 under the pure-JS fallback), which browsers offer only
  // to secure contexts: over plain http the check cannot run, and says so rather than failing every signature.
  if (!globalThis.crypto?.subtle) throw new Error('the page is not served over https, so the browser offers no WebCrypto to check signatures with');
  const source = document.querySelector<HTMLElement>('#verdict .verdict__source');
  if (source) {
    source.dataset.source = 'checking';
    source.textContent = "The registry's verdict. Checking the signatures and log proofs in your browser…";
  }
  const [wellKnownText, bundleText] = await Promise.all([
    fetchText(`${basePath}/.well-known/certrail`),
    fetchText(`${basePath}/api/v1/certificates/${encodeURIComponent(issuer)}/${encodeURIComponent(number)}/bundle`),
  ]);
  performance.mark('certrail:fetched');
  const wellKnown = wellKnownOf(parseJsonStrict(wellKnownText));
  const now = Date.now();
  const expectedId = `${wellKnown.baseUrl}/v/${issuer}/${number}`;
  let checks: ShownCheck[];
  let verdict: BundleVerdict | null = null;
  let bundle: Bundle | null = null;
  try {
    bundle = parseBundle(parseJsonStrict(bundleText));
    verdict = await verifyBundle(
      bundle,
      { log: wellKnown.logVerifierKey, registryKey: wellKnown.registryKey, witnesses: wellKnown.witnesses, quorum: wellKnown.quorum },
      { now },
    );
    const sameId = bundle.certificate === expectedId;
    checks = [
      { name: 'address', ok: sameId, detail: sameId ? `the bundle is for ${expectedId}` : `the bundle is for ${bundle.certificate}, not ${expectedId}` },
      ...verdict.checks,
    ];
  } catch (error) {
    checks = [{ name: 'signature', ok: false, detail: `the proof bundle is malformed: ${error instanceof Error ? error.message : String(error)}` }];
  }
  // The certificate as the bundle holds it (also when a check failed: the visitor sees what the bytes say, under
  // the verdict and a warning).
  let issuerName = '';
  let model: CertificateModel | null = null;
  if (bundle) {
    try {
      model = modelOfBundle(bundle, issuer, now);
      issuerName = model.credential.issuer.name;
    } catch (error) {
      checks.push({ name: 'signature', ok: false, detail: `the certificate in the bundle cannot be read: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  const shown = { status: verdict?.status ?? null, surveillance: verdict?.surveillance ?? null, surveillanceDue: verdict?.surveillanceDue ?? null, checks };
  const headline = headlineOf(shown);
  const details = document.getElementById('details');
  if (details && model) details.innerHTML = renderDetails(model, basePath, now, headline.state !== 'not-authentic').value;
  else if (details && headline.state === 'not-authentic') {
    details.insertAdjacentHTML('afterbegin', html`<p class="notice notice--danger" role="alert">The details below are the registry's; the proof bundle could not be read, so your browser could not confirm them.</p>`.value);
  }
  const disagreement = page.serverState && page.serverState !== headline.state
    ? `The registry's page said “${STATE_LABELS[page.serverState] ?? page.serverState}”; the check in your browser says “${headline.label}”. Rely on your browser's check.`
    : undefined;
  setVerdict(main, headline.state, 'browser', renderVerdict({
    headline,
    source: 'browser',
    number,
    issuerName,
    surveillance: shown.surveillance,
    surveillanceDue: shown.surveillanceDue,
    now,
    disagreement,
    verifiedAt: now,
    state: model?.state,
    failed: checks.filter((c) => !c.ok && AUTHENTICITY_CHECKS.has(c.name)).map((c) => CHECK_LABELS[c.name] ?? c.name),
  }));
  const checksSection = document.getElementById('checks');
  if (checksSection) checksSection.innerHTML = renderChecks(checks, 'browser').value;
  const proofs = document.getElementById('proofs');
  if (proofs && bundle && verdict) {
    try {
      proofs.innerHTML = renderProofs(bundle, verdict, wellKnown).value;
      proofs.hidden = false;
    } catch {
      proofs.hidden = true;
    }
  }
  revealCopyButtons(document);
  main.dataset.checked = 'browser';
  performance.mark('certrail:verified');
}

function fail(page: PageData, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const source = document.querySelector<HTMLElement>('#verdict .verdict__source');
  if (source) {
    source.dataset.source = 'failed';
    source.textContent = `Your browser could not check this certificate (${message}). The verdict above is only the registry's claim.`;
    source.classList.add('verdict__warning');
  }
  page.main.dataset.checked = 'failed';
  performance.mark('certrail:verified');
}

function start(): void {
  setUpCopyButtons(document);
  const print = document.getElementById('print');
  if (print) {
    print.hidden = false;
    print.addEventListener('click', () => window.print());
  }
  const page = pageData();
  if (!page) return;
  check(page).catch((error: unknown) => fail(page, error));
}

start();
