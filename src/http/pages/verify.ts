// The verify page, `/v/{issuer}/{number}` for browsers: the certificate's id, and what its QR code points to. The
// server renders the registry's verdict and the certificate (so the page works without JavaScript); the page script
// (src/web/verify-page.ts) then fetches the offline bundle, verifies it in the visitor's browser and re-renders the
// verdict, the checks and the certificate from what it verified.
import QRCode from 'qrcode';
import { certificateSchema, parseDocument, statusEventSchema } from '../../core/credential.js';
import type { CertificateView } from '../../registry/views.js';
import { html, raw, type SafeHtml } from '../../web/html.js';
import {
  headlineOf,
  NOSCRIPT_NOTE,
  procurementSnippet,
  renderChecks,
  renderDetails,
  renderVerdict,
  type CertificateModel,
} from '../../web/present.js';
import { layout, searchForm, type PageContext } from './layout.js';

/** The certificate as the page shows it, from the registry's view (documents re-read with the core schemas). */
export function modelOfView(view: CertificateView): CertificateModel {
  return {
    id: view.id,
    issuerSlug: view.issuer,
    credential: parseDocument(certificateSchema, view.credential),
    issued: { index: view.issued.index, loggedAt: view.issued.loggedAt },
    events: view.events.map((e) => ({ index: e.index, loggedAt: e.loggedAt, event: parseDocument(statusEventSchema, e.event) })),
    state: view.state,
  };
}

/** The QR code of a URL as inline SVG (black on white whatever the theme, so that it scans). */
export async function qrSvg(text: string): Promise<SafeHtml> {
  const svg = await QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
  // The SVG is generated from the module matrix only (no text of the URL in it); mark it decorative, the figure
  // carries the accessible name.
  return raw(svg.replace('<svg ', '<svg class="qr__code" aria-hidden="true" focusable="false" '));
}

function copyBlock(id: string, label: string, code: string): SafeHtml {
  return html`<div class="snippet">
<p class="snippet__label" id="${id}-label">${label}</p>
<pre aria-labelledby="${id}-label"><code id="${id}">${code}</code></pre>
<button type="button" class="copy" data-copy-from="${id}" aria-label="Copy: ${label}" hidden>Copy</button>
</div>`;
}

export async function renderVerifyPage(ctx: PageContext, view: CertificateView, now: number): Promise<SafeHtml> {
  const model = modelOfView(view);
  const headline = headlineOf(view.verdict);
  const cert = model.credential;
  const base = ctx.basePath;
  const apiBase = `${ctx.baseUrl}/api/v1`;
  const snippet = procurementSnippet(view.id, apiBase);
  const bundlePath = `${base}/api/v1/certificates/${view.issuer}/${view.number}/bundle`;
  const title = `${headline.label}: ${cert.credentialSubject.organization.name}, ${cert.credentialSubject.system.name} (${view.number})`;
  const main = html`data-page="verify" data-issuer="${view.issuer}" data-number="${view.number}" data-base-path="${base}" data-server-state="${headline.state}"`;
  const content = html`<section id="verdict" class="verdict verdict--${headline.state}" data-state="${headline.state}" data-source="server" aria-labelledby="verdict-label" aria-live="polite">
${renderVerdict({
    headline,
    source: 'server',
    number: view.number,
    issuerName: cert.issuer.name,
    surveillance: view.verdict.surveillance,
    surveillanceDue: view.verdict.surveillanceDue,
    now,
    state: view.state,
  })}
${NOSCRIPT_NOTE}
</section>
<div class="layout">
<div class="layout__main">
<div id="details">
${renderDetails(model, base, now)}
</div>
<section class="card" id="checks" aria-labelledby="checks-title">
${renderChecks(view.verdict.checks, 'server')}
</section>
<section class="card" id="proofs" aria-labelledby="proofs-title" hidden></section>
</div>
<aside class="layout__side" aria-label="Share and automate">
<section class="card qr" aria-labelledby="qr-title">
<h2 id="qr-title">Verify URL</h2>
<figure class="qr__figure" role="img" aria-label="QR code of the verify URL ${view.id}">
${await qrSvg(view.id)}
</figure>
<p class="qr__url"><a href="${view.id}" data-field="id">${view.id}</a></p>
<p class="muted">This address is the certificate's id: scan or open it to check the certificate at any time.</p>
<p><button type="button" id="print" class="button-secondary" hidden>Print certificate summary</button></p>
</section>
<section class="card procurement" aria-labelledby="procurement-title">
<h2 id="procurement-title">Add to procurement check</h2>
<p class="muted">The same verdict as JSON, for scripts and procurement systems (no account needed).</p>
${copyBlock('snippet-single', 'This certificate', snippet.single)}
${copyBlock('snippet-batch', 'Batch API (up to 1000 ids)', snippet.batch)}
<p class="muted">Offline: the <a href="${bundlePath}" type="application/vnd.certrail.bundle+json">proof bundle</a> verifies without the registry. <a href="${base}/docs#post-api-v1-verify">API reference</a></p>
</section>
</aside>
</div>
<p class="print-only print-footer">Verify this certificate at <strong>${view.id}</strong>. Printed summary; the online record is authoritative.</p>`;
  return layout(
    ctx,
    {
      title,
      description: `${headline.label}. ${headline.meaning}`,
      script: 'verify-page.js',
      // The script's two fetches start with the page, not after the script has loaded (it fetches these exact URLs).
      preload: [`${base}/.well-known/certrail`, bundlePath],
      mainAttributes: main,
      bodyClass: 'page-verify',
    },
    content,
  );
}

/** The page for a verify URL that names no certificate of this registry (served with 404). */
export function renderNotFoundPage(ctx: PageContext, issuer: string, number: string): SafeHtml {
  const address = `${ctx.baseUrl}/v/${issuer}/${number}`;
  const content = html`<section class="verdict verdict--not-found" data-state="not-found" aria-labelledby="verdict-label">
<div class="verdict__inner">
<p class="verdict__icon" aria-hidden="true">?</p>
<div>
<p class="verdict__kicker">Certificate ${number}</p>
<h1 class="verdict__label" id="verdict-label">Not found in this registry</h1>
<p class="verdict__meaning">No certificate <strong>${number}</strong> of the certification body <strong>${issuer}</strong> is logged in this registry. Do not rely on a certificate that shows this address: it may be forged, mistyped, or registered elsewhere.</p>
</div>
</div>
</section>
<section class="card">
<h2>What you can do</h2>
<ul>
<li>Check that the address matches the one printed on the certificate: <code class="wrap-anywhere">${address}</code></li>
<li>Ask the certification body or the certified organization for the certificate's verify URL.</li>
<li>Search this registry:</li>
</ul>
${searchForm(ctx, number)}
</section>`;
  return layout(ctx, { title: 'Not found in this registry', bodyClass: 'page-not-found' }, content);
}

/** Any other unknown page, for browsers. */
export function renderMissingPage(ctx: PageContext, path: string): SafeHtml {
  const content = html`<section class="card">
<h1>Page not found</h1>
<p>There is no page at <code class="wrap-anywhere">${path}</code>.</p>
${searchForm(ctx)}
</section>`;
  return layout(ctx, { title: 'Page not found' }, content);
}
