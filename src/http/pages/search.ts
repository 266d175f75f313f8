// The landing page and the search page: find a certificate by number, organization, system, standard or model
// digest (pasted, or computed in the browser from a dropped model file by src/web/search-page.ts).
import type { CertificateStatus } from '../../core/status.js';
import type { CertificateSummary } from '../../registry/views.js';
import { html, type SafeHtml } from '../../web/html.js';
import { badge, summaryState } from '../../web/present.js';
import { layout, searchForm, type PageContext } from './layout.js';

export const STATUS_FILTERS: readonly CertificateStatus[] = ['active', 'suspended', 'revoked', 'expired', 'not-yet-valid'];

export function resultList(ctx: PageContext, items: readonly CertificateSummary[]): SafeHtml {
  return html`<ul class="results">${items.map((item) => html`<li class="result" data-number="${item.number}" data-issuer="${item.issuer}">
<a class="result__link" href="${ctx.basePath}/v/${item.issuer}/${item.number}">
<span class="result__head"><span class="result__number">${item.number}</span> ${badge(summaryState(item))}</span>
<span class="result__org">${item.organization}</span>
<span class="result__system">${item.system}</span>
<span class="result__issuer muted">Certification body: ${item.issuer}</span>
</a>
</li>`)}</ul>`;
}

export interface LandingData {
  issuers: ReadonlyArray<{ slug: string; name: string }>;
  recent: readonly CertificateSummary[];
}

export function renderLandingPage(ctx: PageContext, data: LandingData): SafeHtml {
  const content = html`<section class="hero">
<h1>Check an AI security certificate</h1>
<p class="hero__lead">Scan the QR code on a certificate or search below. Every certificate here is signed by its certification body and logged in a public, append-only log; your browser checks the signatures and proofs itself.</p>
${searchForm(ctx, '', { withFile: true })}
</section>
<div class="layout layout--even">
<section class="card" aria-labelledby="recent-title">
<h2 id="recent-title">Certificates</h2>
${data.recent.length > 0 ? resultList(ctx, data.recent) : html`<p class="muted">No certificate has been issued yet.</p>`}
${data.recent.length > 0 ? html`<p><a href="${ctx.basePath}/search?all=1">All certificates</a></p>` : null}
</section>
<section class="card" aria-labelledby="issuers-title">
<h2 id="issuers-title">Certification bodies</h2>
${data.issuers.length > 0
    ? html`<ul class="plain">${data.issuers.map((i) => html`<li><a href="${ctx.basePath}/issuers/${i.slug}">${i.name}</a> <span class="muted">(${i.slug})</span></li>`)}</ul>`
    : html`<p class="muted">No certification body is registered yet.</p>`}
<h2>For machines</h2>
<p>Procurement systems check certificates and model digests through the <a href="${ctx.basePath}/docs">JSON API</a>, the <code>certrail verify</code> command, or offline from a proof bundle.</p>
</section>
</div>`;
  return layout(ctx, { title: 'Check an AI security certificate', script: 'search-page.js', bodyClass: 'page-landing' }, content);
}

export interface SearchData {
  q: string;
  status: CertificateStatus | undefined;
  /** What the query was taken as. */
  kind: 'none' | 'all' | 'digest' | 'text';
  items: readonly CertificateSummary[];
  /** Standards the query named exactly (their certificates are among the items). */
  standardMatched: boolean;
  next: string | null;
  notice?: string | undefined;
}

function statusSelect(selected: CertificateStatus | undefined): SafeHtml {
  const labels: Record<CertificateStatus, string> = {
    active: 'Active',
    suspended: 'Suspended',
    revoked: 'Revoked',
    expired: 'Expired',
    'not-yet-valid': 'Not yet valid',
  };
  return html`<label for="status">Status</label>
<select id="status" name="status">
<option value="">Any</option>
${STATUS_FILTERS.map((s) => html`<option value="${s}"${s === selected ? html` selected` : null}>${labels[s]}</option>`)}
</select>`;
}

export function renderSearchPage(ctx: PageContext, data: SearchData): SafeHtml {
  const count = data.items.length;
  let heading: SafeHtml | null = null;
  if (data.kind === 'digest') {
    heading = html`<h2 id="results-title">${count === 0 ? 'No certificate covers this model digest' : `${count} certificate${count === 1 ? '' : 's'} cover${count === 1 ? 's' : ''} this model digest`}</h2>
<p class="digest-row"><code class="digest" data-digest="${data.q}">${data.q}</code></p>
${count === 0 ? html`<p>No certificate in this registry lists this digest. A model that is not listed is not covered by any certificate here.</p>` : null}`;
  } else if (data.kind === 'text' || data.kind === 'all') {
    const what = data.kind === 'all' ? 'All certificates' : html`Results for “${data.q}”`;
    heading = html`<h2 id="results-title">${what} <span class="muted">(${count}${data.next ? '+' : ''})</span></h2>
${data.standardMatched ? html`<p class="muted">Including every certificate against the standard ${data.q}.</p>` : null}
${count === 0 ? html`<p>No certificate in this registry matches. Try the certificate number, the organization's or system's name, a standard's exact id (e.g. ISO/IEC 42001:2023) or a model digest.</p>` : null}`;
  }
  const nextHref = data.next
    ? `${ctx.basePath}/search?${new URLSearchParams({ ...(data.kind === 'all' ? { all: '1' } : { q: data.q }), ...(data.status ? { status: data.status } : {}), cursor: data.next }).toString()}`
    : null;
  const content = html`<section class="hero hero--compact">
<h1>Search certificates</h1>
${searchForm(ctx, data.q, { withFile: true, extra: html`<div class="filters">${statusSelect(data.status)}</div>` })}
${data.notice ? html`<p class="notice" role="status">${data.notice}</p>` : null}
</section>
${heading
    ? html`<section class="card" aria-labelledby="results-title" id="results" data-kind="${data.kind}" data-count="${count}">
${heading}
${count > 0 ? resultList(ctx, data.items) : null}
${nextHref ? html`<p><a href="${nextHref}" rel="next">Next page</a></p>` : null}
</section>`
    : html`<section class="card"><h2>How to search</h2>
<ul>
<li>A <strong>certificate number</strong> (e.g. <code>DEMO-0001</code>) or part of it.</li>
<li>An <strong>organization</strong> or <strong>AI system</strong> name, or part of it.</li>
<li>A <strong>standard</strong>'s exact id, e.g. <code>ISO/IEC 42001:2023</code>.</li>
<li>A <strong>model digest</strong> <code>sha256:…</code>, or drop the model file or folder above to compute it in your browser.</li>
</ul></section>`}`;
  return layout(ctx, { title: data.q ? `Search: ${data.q}` : 'Search certificates', script: 'search-page.js', bodyClass: 'page-search' }, content);
}
