// The issuer page, `/issuers/{issuer}` for browsers (the issuer id dereferences to it): the certification body's
// accreditation, its keys with their validity windows from the log, and its certificates with their status.
import type { CertificateSummary, RegistryViews } from '../../registry/views.js';
import { html, type SafeHtml } from '../../web/html.js';
import { dateTimeHtml } from '../../web/present.js';
import { layout, type PageContext } from './layout.js';
import { resultList } from './search.js';

export type IssuerProfile = NonNullable<Awaited<ReturnType<RegistryViews['issuer']>>>;

export interface Accreditation {
  body: string;
  number?: string | undefined;
  scope?: string | undefined;
  url?: string | undefined;
}

export interface IssuerPageData {
  profile: IssuerProfile;
  accreditation: Accreditation | null;
  certificates: readonly CertificateSummary[];
  next: string | null;
}

function keyRow(key: IssuerProfile['keys'][number]): SafeHtml {
  const revoked = key.status === 'revoked';
  return html`<li class="key" data-key="${key.keyId}" data-status="${key.status}">
<p class="key__head"><strong><code>${key.keyId}</code></strong> <span class="badge badge--${revoked ? 'revoked' : 'valid'}">${revoked ? 'Revoked' : 'Active'}</span></p>
<p class="digest-row"><code class="digest">${key.publicKeyMultibase}</code></p>
<p class="muted">Valid for entries logged from ${dateTimeHtml(key.addedAt)} (log entry #${key.addedIndex})
${key.validUntil ? html` until ${dateTimeHtml(key.validUntil)}` : ' with no end set'}${key.compromisedAt ? html`; <strong>compromised</strong> from ${dateTimeHtml(key.compromisedAt)}` : null}${key.revokedAt && !key.compromisedAt ? html`; revoked ${dateTimeHtml(key.revokedAt)}` : null}.</p>
</li>`;
}

export function renderIssuerPage(ctx: PageContext, data: IssuerPageData): SafeHtml {
  const p = data.profile;
  const a = data.accreditation;
  const nextHref = data.next ? `${ctx.basePath}/issuers/${p.slug}?cursor=${encodeURIComponent(data.next)}` : null;
  const content = html`<section class="hero hero--compact">
<p class="eyebrow">Certification body</p>
<h1>${p.name}</h1>
<p class="muted">Registered ${dateTimeHtml(p.registration.loggedAt)} (log entry #${p.registration.index}) · id <code class="wrap-anywhere">${p.id}</code>${p.managedSigning ? ' · managed signing: the registry holds a signing key for this body' : ''}</p>
</section>
<div class="layout layout--even">
<section class="card" aria-labelledby="accreditation-title">
<h2 id="accreditation-title">Accreditation</h2>
${a
    ? html`<dl class="facts">
<div class="fact"><dt>Accreditation body</dt><dd>${a.url ? html`<a href="${a.url}" rel="noopener noreferrer">${a.body}</a>` : a.body}</dd></div>
${a.number ? html`<div class="fact"><dt>Accreditation number</dt><dd><code>${a.number}</code></dd></div>` : null}
${a.scope ? html`<div class="fact fact--wide"><dt>Scope</dt><dd>${a.scope}</dd></div>` : null}
</dl>`
    : html`<p class="muted">The registration names no accreditation.</p>`}
</section>
<section class="card" aria-labelledby="keys-title">
<h2 id="keys-title">Signing keys</h2>
<p class="muted">Every key is logged when added and when revoked; a signature counts only if it was logged inside its key's window. Machine-readable: <a href="${ctx.basePath}/issuers/${p.slug}/did.json">DID document</a> · <a href="${ctx.basePath}/api/v1/issuers/${p.slug}/jwks.json">JWKS</a></p>
${p.keys.length > 0 ? html`<ul class="keys">${p.keys.map(keyRow)}</ul>` : html`<p class="muted">No key is registered.</p>`}
</section>
</div>
<section class="card" aria-labelledby="certs-title" id="results" data-count="${data.certificates.length}">
<h2 id="certs-title">Certificates</h2>
${data.certificates.length > 0 ? resultList(ctx, data.certificates) : html`<p class="muted">This body has issued no certificate here yet.</p>`}
${nextHref ? html`<p><a href="${nextHref}" rel="next">Next page</a></p>` : null}
</section>`;
  return layout(ctx, { title: p.name, bodyClass: 'page-issuer' }, content);
}

/** For browsers asking for an issuer this registry does not know (served with 404). */
export function renderIssuerNotFound(ctx: PageContext, slug: string): SafeHtml {
  const content = html`<section class="verdict verdict--not-found" data-state="not-found" aria-labelledby="verdict-label">
<div class="verdict__inner"><p class="verdict__icon" aria-hidden="true">?</p><div>
<h1 class="verdict__label" id="verdict-label">Not found in this registry</h1>
<p class="verdict__meaning">No certification body <strong>${slug}</strong> is registered in this registry.</p>
</div></div>
</section>
<p><a href="${ctx.basePath}/">All certification bodies</a></p>`;
  return layout(ctx, { title: 'Certification body not found' }, content);
}
