// The HTML side of the registry: landing page, search, issuer pages, the verify page (mounted on /v/ in app.ts,
// where it shares its URL with the JSON verdict) and the static assets. Every route here is documented in
// src/http/openapi.ts like the API's.
import { Hono, type Context } from 'hono';
import { ISSUER_SLUG, issuerRegistrationSchema, parseDocument } from '../../core/credential.js';
import { RegistryError } from '../../core/errors.js';
import { decodeCursor, type CertificateSummary, type RegistryViews } from '../../registry/views.js';
import { problem } from '../problem.js';
import { ASSET_NAMES, type AssetMap } from './assets.js';
import { renderIssuerNotFound, renderIssuerPage, type Accreditation } from './issuer.js';
import { pageContext, sendPage, wantsHtml, type PageContext } from './layout.js';
import { renderLandingPage, renderSearchPage, STATUS_FILTERS, type SearchData } from './search.js';
import { renderMissingPage, renderNotFoundPage, renderVerifyPage } from './verify.js';

export interface PageServices {
  baseUrl: string;
  views: RegistryViews;
  now: () => number;
  assets: AssetMap;
}

const PAGE_SIZE = 50;
const MAX_QUERY = 256;
const DIGEST = /^(?:sha256:)?([0-9a-fA-F]{64})$/;

/** Echoes of request data in pages are cut to this length (they are escaped anyway). */
function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function cursorOf(text: string | undefined): { after: number | undefined; bad: boolean } {
  if (!text) return { after: undefined, bad: false };
  try {
    return { after: decodeCursor(text), bad: false };
  } catch (error) {
    if (error instanceof RegistryError) return { after: undefined, bad: true };
    throw error;
  }
}

export class Pages {
  readonly ctx: PageContext;

  constructor(private readonly s: PageServices) {
    this.ctx = pageContext(s.baseUrl, s.assets);
  }

  /** GET /v/{issuer}/{number} for browsers. */
  async verify(c: Context, issuer: string, number: string): Promise<Response> {
    const view = await this.s.views.certificate(issuer, number, this.s.now());
    if (!view) return sendPage(c, renderNotFoundPage(this.ctx, clip(issuer), clip(number)), 404, 'no-store');
    return sendPage(c, await renderVerifyPage(this.ctx, view, this.s.now()));
  }

  /** The not-found handler's page for browsers. */
  missing(c: Context): Response {
    return sendPage(c, renderMissingPage(this.ctx, clip(c.req.path, 200)), 404, 'no-store');
  }

  async landing(c: Context): Promise<Response> {
    const [issuers, recent] = await Promise.all([this.s.views.issuers(), this.s.views.search({ limit: 10 }, this.s.now())]);
    return sendPage(c, renderLandingPage(this.ctx, { issuers, recent: recent.items }));
  }

  async search(c: Context): Promise<Response> {
    const notices: string[] = [];
    let q = (c.req.query('q') ?? '').trim();
    if (q.length > MAX_QUERY) {
      q = q.slice(0, MAX_QUERY);
      notices.push(`The query was cut to ${MAX_QUERY} characters.`);
    }
    const statusText = c.req.query('status') ?? '';
    const status = STATUS_FILTERS.find((s) => s === statusText);
    const cursor = cursorOf(c.req.query('cursor'));
    if (cursor.bad) notices.push('The page cursor was not understood; showing the first page.');
    const now = this.s.now();
    const data: SearchData = { q, status, kind: 'none', items: [], standardMatched: false, next: null };
    const digest = DIGEST.exec(q);
    if (digest) {
      data.kind = 'digest';
      data.q = `sha256:${digest[1]!.toLowerCase()}`;
      data.items = (await this.s.views.byModel(data.q, now)).filter((i) => !status || i.status === status);
    } else if (q || c.req.query('all') === '1' || status) {
      data.kind = q ? 'text' : 'all';
      const items: CertificateSummary[] = [];
      if (q && cursor.after === undefined) {
        // A standard's exact id finds its certificates too (the text search covers numbers and names).
        const byStandard = await this.s.views.search({ standard: q, status, limit: PAGE_SIZE }, now);
        data.standardMatched = byStandard.items.length > 0;
        items.push(...byStandard.items);
      }
      const page = await this.s.views.search({ q: q || undefined, status, after: cursor.after, limit: PAGE_SIZE }, now);
      for (const item of page.items) if (!items.some((i) => i.id === item.id)) items.push(item);
      data.items = items;
      data.next = page.next;
    }
    if (notices.length > 0) data.notice = notices.join(' ');
    return sendPage(c, renderSearchPage(this.ctx, data));
  }

  /** GET /issuers/{issuer}: the page for browsers, the issuer profile (as /api/v1/issuers/{issuer}) otherwise. */
  async issuer(c: Context): Promise<Response> {
    const slug = c.req.param('issuer') ?? '';
    const html = wantsHtml(c.req.header('accept'));
    const profile = ISSUER_SLUG.test(slug) ? await this.s.views.issuer(slug, this.s.now()) : null;
    if (!profile) {
      if (html) return sendPage(c, renderIssuerNotFound(this.ctx, clip(slug)), 404, 'no-store');
      return problem(c, 'not-found', 'no such issuer');
    }
    if (!html) {
      c.header('Vary', 'Accept');
      return c.json(profile);
    }
    const registration = parseDocument(issuerRegistrationSchema, profile.registration.document);
    const accreditation: Accreditation | null = registration.accreditation ?? null;
    const cursor = cursorOf(c.req.query('cursor'));
    const page = await this.s.views.search({ issuer: slug, after: cursor.after, limit: PAGE_SIZE }, this.s.now());
    return sendPage(c, renderIssuerPage(this.ctx, { profile, accreditation, certificates: page.items, next: page.next }));
  }

  asset(c: Context, name: string): Response {
    const asset = this.s.assets.get(name);
    if (!asset) return problem(c, 'not-found', `the asset ${name} is not built; run npm run build`);
    const current = c.req.query('v') === asset.hash;
    return c.body(asset.body, 200, {
      'Content-Type': asset.contentType,
      'Cache-Control': current ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
  }
}

/** The page routes: `/`, `/search`, `/issuers/{issuer}` and `/assets/{name}` (the verify page is routed in app.ts). */
export function pageRoutes(pages: Pages): Hono {
  const app = new Hono();
  app.get('/', (c) => pages.landing(c));
  app.get('/search', (c) => pages.search(c));
  app.get('/issuers/:issuer', (c) => pages.issuer(c));
  for (const name of ASSET_NAMES) app.get(`/assets/${name}`, (c) => pages.asset(c, name));
  return app;
}
