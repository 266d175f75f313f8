// The pages over plain HTTP (no browser): content negotiation between each page and its JSON twin, security headers
// (strict CSP, no inline script or style), escaping of attacker-controlled certificate fields and query text,
// not-found pages with 404, search by digest, number, name and standard, and the versioned static assets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wantsHtml } from '../../src/http/pages/layout.js';
import { issueExtra, startDemoRegistry, type DemoRegistry } from './support.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('content negotiation', () => {
  it('serves HTML only to clients that prefer text/html to JSON', () => {
    expect(wantsHtml(BROWSER)).toBe(true);
    expect(wantsHtml('text/html')).toBe(true);
    expect(wantsHtml('text/*, application/json;q=0.5')).toBe(true);
    expect(wantsHtml(undefined)).toBe(false);
    expect(wantsHtml('')).toBe(false);
    expect(wantsHtml('*/*')).toBe(false);
    expect(wantsHtml('application/json')).toBe(false);
    expect(wantsHtml('application/json, text/html')).toBe(false);
    expect(wantsHtml('text/html;q=0.5, application/json')).toBe(false);
    expect(wantsHtml('text/html;q=0, */*')).toBe(false);
    expect(wantsHtml('application/*, text/html')).toBe(true);
    expect(wantsHtml('garbage;;;,/,text')).toBe(false);
  });
});

describe('pages over HTTP', () => {
  let registry: DemoRegistry;
  const get = (path: string, accept?: string) => fetch(`${registry.server.url}${path}`, { headers: accept ? { accept } : {} });

  beforeAll(async () => {
    registry = await startDemoRegistry();
  });
  afterAll(async () => {
    await registry?.close();
  });

  function expectPageHeaders(res: Response): void {
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('vary')).toContain('Accept');
  }

  function expectCleanMarkup(html: string): void {
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    // Scripts only from this origin's assets, no inline script, no inline style, no external resource.
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/^<script type="module" src="\/assets\/[a-z-]+\.js\?v=[0-9a-f]{16}">$/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]/);
    // Every `<` of text is escaped, so each `<...>` left is a real tag: none may carry a style or an event handler
    // (attribute values, escaped, are left out of the test).
    for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) expect(tag.replace(/"[^"]*"/g, '""')).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/(?:src|href)="https?:\/\/(?!certrail\.test\/)/);
  }

  it('answers the verify URL with JSON by default and the page to browsers, varying on Accept', async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const res = await get('/v/demo-cb/DEMO-0001', accept);
      expect(res.headers.get('content-type'), accept).toMatch(/^application\/json/);
      expect(res.headers.get('vary')).toContain('Accept');
      expect(await res.json()).toMatchObject({ id: 'http://certrail.test/v/demo-cb/DEMO-0001', status: 'active', valid: true });
    }
    const res = await get('/v/demo-cb/DEMO-0001', BROWSER);
    expect(res.status).toBe(200);
    expectPageHeaders(res);
    const html = await res.text();
    expectCleanMarkup(html);
    expect(html).toContain('id="verdict" class="verdict verdict--valid" data-state="valid" data-source="server"');
    expect(html).toContain('<h1 class="verdict__label" id="verdict-label">Valid</h1>');
    expect(html).toContain('<svg class="qr__code" aria-hidden="true"');
    expect(html).toContain('role="img" aria-label="QR code of the verify URL http://certrail.test/v/demo-cb/DEMO-0001"');
    expect(html).toContain('data-check="signature" data-ok="true"');
    expect(html).toContain('<noscript>');
    expect(Buffer.byteLength(html)).toBeLessThan(30_000);
  });

  it('shows each demo status in the server-rendered verdict (the page without JavaScript)', async () => {
    const expected: Record<string, string> = {
      'DEMO-0001': 'Valid',
      'DEMO-0003': 'Valid',
      'DEMO-0004': 'Surveillance overdue',
      'DEMO-0005': 'Suspended',
      'DEMO-0006': 'Revoked',
      'DEMO-0007': 'Expired',
      'DEMO-0008': 'Not yet valid',
    };
    for (const [number, label] of Object.entries(expected)) {
      const html = await (await get(`/v/demo-cb/${number}`, BROWSER)).text();
      expect(html, number).toContain(`id="verdict-label">${label}</h1>`);
    }
    expect(await (await get('/v/demo-cb/DEMO-0003', BROWSER)).text()).toMatch(/Surveillance audit due in \d+ days/);
  });

  it('escapes attacker-controlled certificate fields and query text', async () => {
    await issueExtra(registry.server, 'XSS-1', {
      organization: '<script>alert("org")</script> & Co',
      system: '"><img src=x onerror=alert(1)>',
      scope: "</dd><script>alert('scope')</script><style>body{display:none}</style>",
      models: [{ name: '<b>model</b>', digest: `sha256:${'ab'.repeat(32)}`, method: 'file' }],
    });
    for (const path of ['/v/demo-cb/XSS-1', '/search?q=XSS', '/issuers/demo-cb', '/']) {
      const res = await get(path, BROWSER);
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expectCleanMarkup(html);
      expect(html, path).not.toContain('<script>alert');
      expect(html, path).not.toContain('<img src=x');
      expect(html, path).toContain('&lt;script&gt;alert(&quot;org&quot;)&lt;/script&gt; &amp; Co');
    }
    const page = await (await get('/v/demo-cb/XSS-1', BROWSER)).text();
    expect(page).toContain('&lt;/dd&gt;&lt;script&gt;alert(&#39;scope&#39;)&lt;/script&gt;&lt;style&gt;');
    expect(page).toContain('&lt;b&gt;model&lt;/b&gt;');
    // Query text echoed into the search page and the not-found page.
    const search = await (await get(`/search?q=${encodeURIComponent('"><script>alert(1)</script>')}`, BROWSER)).text();
    expect(search).not.toContain('<script>alert(1)');
    expect(search).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    const missing = await get(`/v/demo-cb/${encodeURIComponent('<svg onload=alert(1)>')}`, BROWSER);
    expect(missing.status).toBe(404);
    const missingHtml = await missing.text();
    expect(missingHtml).not.toContain('<svg onload');
    expectCleanMarkup(missingHtml);
  });

  it('answers an unknown certificate with a 404 "not found in this registry" page, or problem+json', async () => {
    const page = await get('/v/demo-cb/NOPE-1', BROWSER);
    expect(page.status).toBe(404);
    expectPageHeaders(page);
    const html = await page.text();
    expect(html).toContain('Not found in this registry');
    expect(html).toContain('No certificate <strong>NOPE-1</strong> of the certification body <strong>demo-cb</strong>');
    const api = await get('/v/demo-cb/NOPE-1');
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toBe('application/problem+json');

    const issuerPage = await get('/issuers/no-such-cb', BROWSER);
    expect(issuerPage.status).toBe(404);
    expect(await issuerPage.text()).toContain('No certification body <strong>no-such-cb</strong>');
    expect((await get('/issuers/no-such-cb')).headers.get('content-type')).toBe('application/problem+json');

    const other = await get('/no/such/page', BROWSER);
    expect(other.status).toBe(404);
    expect(await other.text()).toContain('Page not found');
    expect((await get('/no/such/page')).headers.get('content-type')).toBe('application/problem+json');
  });

  it('serves the issuer id as the issuer page to browsers and as the profile JSON otherwise', async () => {
    const json = await get('/issuers/demo-cb');
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toMatchObject({ slug: 'demo-cb', managedSigning: true });
    const page = await get('/issuers/demo-cb', BROWSER);
    expectPageHeaders(page);
    const html = await page.text();
    expectCleanMarkup(html);
    expect(html).toContain('DAS-AIMS-0042');
    expect(html).toContain('data-key="managed-1" data-status="active"');
    for (const number of ['DEMO-0001', 'DEMO-0008']) expect(html).toContain(`data-number="${number}"`);
  });

  it('searches by model digest (pasted in any case, with or without the prefix), number, name and standard', async () => {
    const view = (await (await get('/api/v1/certificates/demo-cb/DEMO-0003')).json()) as {
      credential: { credentialSubject: { models: Array<{ digest: string }> } };
    };
    const digest = view.credential.credentialSubject.models[1]!.digest;
    for (const q of [digest, digest.slice('sha256:'.length).toUpperCase()]) {
      const html = await (await get(`/search?q=${encodeURIComponent(q)}`, BROWSER)).text();
      expect(html).toContain('data-kind="digest" data-count="1"');
      expect(html).toContain('data-number="DEMO-0003"');
      expect(html).toContain(`data-digest="${digest}"`);
    }
    const none = await (await get(`/search?q=sha256:${'0'.repeat(64)}`)).text();
    expect(none).toContain('No certificate covers this model digest');

    const byStandard = await (await get(`/search?q=${encodeURIComponent('NIST AI RMF 1.0')}`)).text();
    for (const number of ['DEMO-0002', 'DEMO-0004', 'DEMO-0006', 'DEMO-0007']) expect(byStandard).toContain(`data-number="${number}"`);
    expect(byStandard).not.toContain('data-number="DEMO-0001"');

    const byName = await (await get('/search?q=orbital')).text();
    expect(byName).toContain('data-number="DEMO-0005"');
    expect(byName).toMatch(/data-number="DEMO-0005"[\s\S]*?badge--suspended/);

    const revoked = await (await get('/search?all=1&status=revoked')).text();
    expect(revoked).toContain('data-number="DEMO-0006"');
    expect(revoked).not.toContain('data-number="DEMO-0001"');

    const odd = await (await get(`/search?q=${'x'.repeat(300)}&cursor=%%%&status=bogus`)).text();
    expect(odd).toContain('The query was cut to 256 characters.');
    expect(odd).toContain('The page cursor was not understood');
  });

  it('serves the assets with their types, cached for good only under their current hash', async () => {
    const html = await (await get('/v/demo-cb/DEMO-0001', BROWSER)).text();
    const links = [...html.matchAll(/(?:src|href)="(\/assets\/[^"?]+)\?v=([0-9a-f]{16})"/g)].map((m) => ({ path: m[1]!, hash: m[2]! }));
    expect(links.map((l) => l.path).sort()).toEqual(['/assets/certrail.css', '/assets/favicon.svg', '/assets/verify-page.js']);
    const types: Record<string, string> = {
      '/assets/certrail.css': 'text/css; charset=utf-8',
      '/assets/favicon.svg': 'image/svg+xml',
      '/assets/verify-page.js': 'text/javascript; charset=utf-8',
    };
    for (const { path, hash } of links) {
      const current = await get(`${path}?v=${hash}`);
      expect(current.status, path).toBe(200);
      expect(current.headers.get('content-type'), path).toBe(types[path]);
      expect(current.headers.get('cache-control'), path).toBe('public, max-age=31536000, immutable');
      expect((await get(path)).headers.get('cache-control'), path).toBe('no-cache');
    }
    const script = await (await get('/assets/verify-page.js')).text();
    expect(script).toContain('certrail:verified');
    expect(script).not.toMatch(/https?:\/\/(?:cdn|unpkg|fonts)\./);
  });
});
