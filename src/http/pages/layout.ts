// The shell of every HTML page (head, site header, footer), the headers pages are served with, and content
// negotiation between a page and its JSON twin.
//
// Security: pages are rendered with the escaping templates of src/web/html.ts; the CSP allows scripts, styles,
// fetches and form posts from this origin only, and no inline script or style at all.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { html, type SafeHtml } from '../../web/html.js';
import type { AssetMap, AssetName } from './assets.js';

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface PageContext {
  /** The public base URL (certificate ids derive from it). */
  baseUrl: string;
  /** The path of the base URL, '' at the root: prefixed to every link, so the pages work under a path too. */
  basePath: string;
  assets: AssetMap;
}

export function pageContext(baseUrl: string, assets: AssetMap): PageContext {
  return { baseUrl, basePath: new URL(baseUrl).pathname.replace(/\/+$/, ''), assets };
}

/** The URL of an asset, versioned by its content hash. */
export function assetUrl(ctx: PageContext, name: AssetName): string {
  const asset = ctx.assets.get(name);
  return `${ctx.basePath}/assets/${name}${asset ? `?v=${asset.hash}` : ''}`;
}

interface AcceptRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): AcceptRange[] {
  const out: AcceptRange[] = [];
  for (const part of header.split(',').slice(0, 64)) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const [type, subtype] = (range ?? '').trim().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number(v);
    }
    out.push({ type, subtype, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 });
  }
  return out;
}

/** The q-value and specificity (2 exact, 1 `type/*`, 0 `*\/*`) of the best range matching `type/subtype`. */
function match(ranges: readonly AcceptRange[], type: string, subtype: string): { q: number; specificity: number } {
  let best = { q: 0, specificity: -1 };
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity > best.specificity) best = { q: r.q, specificity };
  }
  return best;
}

/**
 * Whether a request for a resource with both an HTML page and a JSON form gets the page: only when it names
 * `text/html` (or `text/*`) and prefers it to `application/json`. Browsers always do; a missing header or a bare
 * `*\/*` (curl, fetch, HTTP libraries) keeps the JSON API answer and its problem+json errors.
 */
export function wantsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const page = match(ranges, 'text', 'html');
  const json = match(ranges, 'application', 'json');
  if (page.specificity < 1 || page.q <= 0) return false;
  return page.q > json.q || (page.q === json.q && page.specificity > json.specificity);
}

/** Sends a page with its security headers. */
export function sendPage(c: Context, body: SafeHtml, status: ContentfulStatusCode = 200, cache = 'no-cache'): Response {
  c.header('Vary', 'Accept');
  return c.body(`<!doctype html>\n${body.value}`, status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': PAGE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': cache,
  });
}

export interface LayoutOptions {
  title: string;
  description?: string;
  script?: AssetName;
  /** Data the page script will fetch, preloaded in parallel with the script itself (same-origin paths). */
  preload?: readonly string[];
  /** Attributes of <main>, rendered as given (build them with `html`). */
  mainAttributes?: SafeHtml;
  bodyClass?: string;
}

export function layout(ctx: PageContext, options: LayoutOptions, content: SafeHtml): SafeHtml {
  const base = ctx.basePath;
  return html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Certrail</title>
<meta name="description" content="${options.description ?? 'Certrail: a transparency registry for AI security certificates.'}">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<link rel="stylesheet" href="${assetUrl(ctx, 'certrail.css')}">
<link rel="icon" href="${assetUrl(ctx, 'favicon.svg')}" type="image/svg+xml">
${options.script ? html`<script type="module" src="${assetUrl(ctx, options.script)}"></script>` : null}
${(options.preload ?? []).map((href) => html`<link rel="preload" href="${href}" as="fetch" crossorigin="anonymous">`)}
</head>
<body class="${options.bodyClass ?? ''}">
<a class="skip" href="#main">Skip to content</a>
<header class="site">
<div class="wrap site__bar">
<a class="brand" href="${base}/"><span class="brand__mark" aria-hidden="true">◆</span> Certrail</a>
<nav aria-label="Main"><ul class="nav">
<li><a href="${base}/search">Search</a></li>
<li><a href="${base}/docs">API</a></li>
</ul></nav>
</div>
</header>
<main id="main" class="wrap" tabindex="-1" ${options.mainAttributes ?? null}>
${content}
</main>
<footer class="site">
<div class="wrap">
<p>Certrail is a transparency registry: every certificate and every status change is signed by its certification body and appended to a public, append-only Merkle log that anyone can audit.</p>
<p><a href="${base}/.well-known/certrail">Log key</a> · <a href="${base}/log/checkpoint">Latest checkpoint</a> · <a href="${base}/docs">API reference</a> · <a href="${base}/openapi.json">OpenAPI</a></p>
</div>
</footer>
</body>
</html>`;
}

/** A search form (landing page, search page, not-found page). */
export function searchForm(ctx: PageContext, q = '', options: { withFile?: boolean; extra?: SafeHtml } = {}): SafeHtml {
  return html`<form class="search" role="search" action="${ctx.basePath}/search" method="get">
<label for="q" class="search__label">Certificate number, organization, system, standard or model digest</label>
<div class="search__row">
<input id="q" name="q" type="search" value="${q}" maxlength="256" autocomplete="off" spellcheck="false" placeholder="e.g. DEMO-0001, Lumen Health, ISO/IEC 42001:2023, sha256:…">
<button type="submit">Search</button>
</div>
${options.extra ?? null}
${options.withFile
    ? html`<div class="dropzone" id="dropzone" hidden>
<p><strong>Check a model file:</strong> drop a file or folder here, or
<label class="filelabel" for="model-file">choose a file</label><input id="model-file" type="file" class="visually-hidden"> /
<label class="filelabel" for="model-dir">a folder</label><input id="model-dir" type="file" class="visually-hidden" webkitdirectory multiple>.
It is hashed in your browser (OpenSSF model signing digest); nothing is uploaded.</p>
<p class="dropzone__status" id="hash-status" role="status" aria-live="polite"></p>
</div>`
    : null}
</form>`;
}
