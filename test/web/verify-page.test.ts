// End-to-end: the verify page, search and issuer pages in real headless Chromium (Debian's `chromium`, driven by
// playwright-core) against the real server on loopback with the demo data. The in-browser checks are the SDK's
// verifyBundle run by the page; these tests read what the page shows (badge, every check, every inclusion proof),
// tamper with stored bytes and with bytes in transit, decode the QR code, search by model digest and by a dropped
// file, and look at the page at 360 px and 1280 px. Screenshots go to test-results/screenshots/ (git-ignored).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64, toHex } from '../../src/core/bytes.js';
import { sha256 } from '../../src/core/crypto.js';
import { modelDigestOfFiles } from '../../src/core/model-digest.js';
import { buildPage } from '../../scripts/build/page.js';
import { decodeQrPng, issueExtra, launchChromium, screenshotPath, startDemoRegistry, timeToVerdict, type DemoRegistry } from './support.js';

const AUTHENTICITY = ['address', 'checkpoint', 'witnesses', 'signature', 'issuer-key', 'logged', 'events'];

const DEMO: Record<string, { state: string; label: string; timeline: string[] }> = {
  'DEMO-0001': { state: 'valid', label: 'Valid', timeline: ['issued'] },
  'DEMO-0002': { state: 'valid', label: 'Valid', timeline: ['issued', 'surveillance-audit'] },
  'DEMO-0003': { state: 'valid', label: 'Valid', timeline: ['issued'] },
  'DEMO-0004': { state: 'surveillance-overdue', label: 'Surveillance overdue', timeline: ['issued'] },
  'DEMO-0005': { state: 'suspended', label: 'Suspended', timeline: ['issued', 'suspended'] },
  'DEMO-0006': { state: 'revoked', label: 'Revoked', timeline: ['issued', 'revoked'] },
  'DEMO-0007': { state: 'expired', label: 'Expired', timeline: ['issued', 'surveillance-audit'] },
  'DEMO-0008': { state: 'not-yet-valid', label: 'Not yet valid', timeline: ['issued'] },
};

interface ApiCheck {
  name: string;
  ok: boolean;
}

describe('verify page in headless Chromium', { timeout: 60_000 }, () => {
  let registry: DemoRegistry;
  let browser: Browser;
  let desktop: BrowserContext;
  const problems: string[] = [];
  const times: number[] = [];

  const url = (path: string) => `${registry.server.url}${path}`;
  const certificateId = (number: string) => `${registry.server.config.baseUrl}/v/demo-cb/${number}`;

  /** A page that records console errors, CSP violations and failed requests into `problems`. */
  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      // The not-found page is meant to answer 404; Chromium logs that as a failed resource load.
      const expected404 = page.url().includes('FORGED-') && m.text().includes('status of 404');
      if (m.type() === 'error' && !expected404) problems.push(`${page.url()}: console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: page error: ${e.message}`));
    return page;
  }

  async function openVerified(page: Page, number: string): Promise<void> {
    const response = await page.goto(url(`/v/demo-cb/${number}`));
    expect(response?.status()).toBe(200);
    await page.waitForSelector('#main[data-checked="browser"]', { timeout: 10_000 });
  }

  beforeAll(async () => {
    await buildPage();
    [registry, browser] = await Promise.all([startDemoRegistry(), launchChromium()]);
    desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await registry?.close();
    if (times.length > 0) console.log(`time to verified verdict in Chromium (ms): ${times.map((t) => t.toFixed(0)).join(', ')}`);
  });

  it('shows the right badge and passes every in-browser check for each demo status', async () => {
    const page = await newPage(desktop);
    for (const [number, expected] of Object.entries(DEMO)) {
      await openVerified(page, number);
      const verdict = page.locator('#verdict');
      expect(await verdict.getAttribute('data-state'), number).toBe(expected.state);
      expect(await verdict.getAttribute('data-source'), number).toBe('browser');
      expect((await page.locator('#verdict-label').textContent())?.trim(), number).toBe(expected.label);
      expect(await page.locator('#verdict .verdict__warning').count(), `${number}: browser and registry disagree`).toBe(0);

      // Every check the browser ran, with a tick or a cross: authenticity passes for all demo certificates; the
      // lifecycle checks agree with the registry's own verdict (JSON API).
      const shown = await page.locator('#checks li[data-check]').evaluateAll((items) =>
        items.map((li) => ({ name: li.getAttribute('data-check') ?? '', ok: li.getAttribute('data-ok') === 'true', mark: li.querySelector('.check__mark')?.textContent ?? '' })),
      );
      expect(shown.map((c) => c.name), number).toEqual([...AUTHENTICITY, 'status', 'validity', 'surveillance']);
      for (const c of shown) expect(c.mark, `${number} ${c.name}`).toBe(c.ok ? '✓' : '✗');
      for (const name of AUTHENTICITY) expect(shown.find((c) => c.name === name)?.ok, `${number} ${name}`).toBe(true);
      const api = (await (await fetch(url(`/v/demo-cb/${number}`), { headers: { accept: 'application/json' } })).json()) as { checks: ApiCheck[]; valid: boolean };
      for (const c of api.checks) expect(shown.find((s) => s.name === c.name)?.ok, `${number} ${c.name} vs API`).toBe(c.ok);

      // Each entry's inclusion proof, one by one.
      const proofs = await page.locator('#proofs li[data-entry]').evaluateAll((items) => items.map((li) => li.getAttribute('data-ok')));
      expect(proofs.length, number).toBeGreaterThanOrEqual(3 + expected.timeline.length - 1);
      expect(proofs.every((ok) => ok === 'true'), number).toBe(true);

      // The timeline and the details come from the verified bundle.
      const kinds = await page.locator('.timeline [data-kind]').evaluateAll((items) => items.map((li) => li.getAttribute('data-kind')));
      expect(kinds, number).toEqual(expected.timeline);
      expect(await page.locator('.models .digest').count(), number).toBeGreaterThan(0);
      times.push(await timeToVerdict(page));
      await page.screenshot({ path: screenshotPath(`verify-${number}-1280`), fullPage: true });
    }
    // Details of particular states.
    await openVerified(page, 'DEMO-0003');
    expect(await page.locator('#verdict .verdict__note').textContent()).toMatch(/Surveillance audit due in \d+ days/);
    await openVerified(page, 'DEMO-0006');
    expect(await page.locator('.timeline [data-kind="revoked"]').textContent()).toContain('Reason: A special audit found a production model');
    expect(await page.locator('#verdict .verdict__note').textContent()).toMatch(/^Revoked \d+ \w+ \d{4}: A special audit found/);
    await openVerified(page, 'DEMO-0005');
    expect(await page.locator('#verdict .verdict__note').textContent()).toMatch(/^Suspended since \d+ \w+ \d{4}: Surveillance audit not performed/);
    await openVerified(page, 'DEMO-0002');
    expect(await page.locator('.timeline [data-kind="surveillance-audit"]').textContent()).toMatch(/Outcome: passed[\s\S]*Next audit due by/);
    await page.close();
  });

  it('encodes the verify URL in the QR code, and prints an A4 summary with it', async () => {
    const page = await newPage(desktop);
    await openVerified(page, 'DEMO-0001');
    const png = await page.locator('.qr__figure').screenshot();
    const blank = await desktop.newPage();
    expect(await decodeQrPng(blank, png)).toBe(certificateId('DEMO-0001'));
    await blank.close();
    expect(await page.locator('.qr__url a').textContent()).toBe(certificateId('DEMO-0001'));

    // The procurement snippet names the same certificate through the JSON API.
    expect(await page.locator('#snippet-single').textContent()).toBe(`curl -s -H 'Accept: application/json' '${certificateId('DEMO-0001')}'`);
    expect(await page.locator('#snippet-batch').textContent()).toContain(`{"items":["${certificateId('DEMO-0001')}"]}`);

    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.procurement').isVisible()).toBe(false);
    expect(await page.locator('.qr__figure').isVisible()).toBe(true);
    expect(await page.locator('.print-footer').isVisible()).toBe(true);
    await page.screenshot({ path: screenshotPath('verify-DEMO-0001-print'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(screenshotPath('verify-DEMO-0001-print').replace(/\.png$/, '.pdf')), pdf);
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).toBe(1);
    await page.emulateMedia({ media: 'screen' });
    await page.close();
  });

  it('works at 360 px and 1280 px wide without horizontal scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      for (const [context, width] of [[phone, 360], [desktop, 1280]] as const) {
        const page = await newPage(context);
        for (const path of ['/v/demo-cb/DEMO-0001', '/v/demo-cb/DEMO-0006', '/search?q=ISO%2FIEC%2042001%3A2023', '/issuers/demo-cb', '/']) {
          await page.goto(url(path));
          if (path.startsWith('/v/')) await page.waitForSelector('#main[data-checked="browser"]');
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow, `${path} at ${width}px`).toBeLessThanOrEqual(0);
          const label = page.locator('#verdict-label');
          if (path.startsWith('/v/')) {
            const box = await label.boundingBox();
            expect(box, path).not.toBeNull();
            expect(box!.x + box!.width, path).toBeLessThanOrEqual(width);
            expect(await label.evaluate((el) => parseFloat(getComputedStyle(el).fontSize)), path).toBeGreaterThanOrEqual(32);
          }
          const name = path === '/' ? 'landing' : path.replace(/^\//, '').replace(/[^A-Za-z0-9-]+/g, '_');
          await page.screenshot({ path: screenshotPath(`${name}-${width}`), fullPage: true });
        }
        await page.close();
      }
    } finally {
      await phone.close();
    }
  });

  it('finds a certificate by a pasted model digest, by a dropped file and by a folder', async () => {
    const page = await newPage(desktop);
    const view = (await (await fetch(url('/api/v1/certificates/demo-cb/DEMO-0003'))).json()) as {
      credential: { credentialSubject: { models: Array<{ digest: string }> } };
    };
    const digest = view.credential.credentialSubject.models[0]!.digest;
    await page.goto(url('/search'));
    await page.fill('#q', digest);
    await Promise.all([page.waitForURL(/\/search\?q=sha256/), page.press('#q', 'Enter')]);
    expect(await page.locator('#results').getAttribute('data-kind')).toBe('digest');
    const result = page.locator('.result[data-number="DEMO-0003"]');
    expect(await result.count()).toBe(1);
    expect(await result.locator('.badge').getAttribute('data-state')).toBe('valid');
    await page.screenshot({ path: screenshotPath('search-digest-1280'), fullPage: true });

    // A model file chosen in the browser: hashed there (nothing uploaded), then searched.
    const content = Buffer.from(`certrail browser test model ${Date.now()}\n`.repeat(1000));
    const fileDigest = `sha256:${toHex(sha256(content))}`;
    // A model folder: the OpenSSF "files" digest over its files' digests (git paths ignored).
    const dir = mkdtempSync(join(tmpdir(), 'certrail-model-'));
    const files = { 'config.json': '{"layers": 2}\n', 'weights/part-1.bin': 'A'.repeat(5000), 'weights/part-2.bin': 'B'.repeat(3000) };
    try {
      mkdirSync(join(dir, 'model', 'weights'), { recursive: true });
      mkdirSync(join(dir, 'model', '.git'), { recursive: true });
      writeFileSync(join(dir, 'model', '.git', 'HEAD'), 'ref: refs/heads/main\n');
      for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, 'model', path), text);
      const folderDigest = modelDigestOfFiles(
        Object.entries(files).map(([path, text]) => ({ path, sha256: sha256(new TextEncoder().encode(text)) })),
      );
      await issueExtra(registry.server, 'WEB-FILE-1', {
        organization: 'Dropfile Testing Ltd',
        system: 'Hash check system',
        scope: 'Browser test of model file hashing.',
        models: [
          { name: 'model.bin', digest: fileDigest, method: 'file' },
          { name: 'model', digest: folderDigest, method: 'files' },
        ],
      });

      await page.goto(url('/search'));
      await Promise.all([
        page.waitForURL((u) => u.searchParams.get('q') === fileDigest),
        page.setInputFiles('#model-file', { name: 'model.bin', mimeType: 'application/octet-stream', buffer: content }),
      ]);
      expect(await page.locator('.result[data-number="WEB-FILE-1"]').count()).toBe(1);

      await page.goto(url('/search'));
      await Promise.all([page.waitForURL((u) => u.searchParams.get('q') === folderDigest), page.setInputFiles('#model-dir', join(dir, 'model'))]);
      expect(await page.locator('.result[data-number="WEB-FILE-1"]').count()).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // By number, organization and standard.
    for (const [q, number] of [['DEMO-0005', 'DEMO-0005'], ['Quillon', 'DEMO-0006'], ['ISO/IEC 42001:2023', 'DEMO-0008']] as const) {
      await page.goto(url(`/search?q=${encodeURIComponent(q)}`));
      const badge = page.locator(`.result[data-number="${number}"] .badge`);
      expect(await badge.count(), q).toBe(1);
    }
    expect(await page.locator('.result[data-number="DEMO-0006"] .badge').getAttribute('data-state')).toBe('revoked');
    await page.close();
  });

  it('shows the issuer page, the not-found page (404) and the page without JavaScript', async () => {
    const page = await newPage(desktop);
    await page.goto(url('/issuers/demo-cb'));
    expect(await page.locator('h1').textContent()).toBe('Demo AI Assurance GmbH (Certrail demo data)');
    expect(await page.locator('.keys [data-key="managed-1"]').getAttribute('data-status')).toBe('active');
    expect(await page.locator('#accreditation-title + .facts').textContent()).toContain('DAS-AIMS-0042');
    expect(await page.locator('#results .result').count()).toBeGreaterThanOrEqual(8);
    await page.screenshot({ path: screenshotPath('issuer-demo-cb-1280'), fullPage: true });

    const missing = await page.goto(url('/v/demo-cb/FORGED-0001'));
    expect(missing?.status()).toBe(404);
    expect(await page.locator('#verdict-label').textContent()).toBe('Not found in this registry');
    await page.screenshot({ path: screenshotPath('not-found-1280'), fullPage: true });
    await page.close();

    const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    try {
      const plain = await noJs.newPage();
      await plain.goto(url('/v/demo-cb/DEMO-0005'));
      expect(await plain.locator('#verdict').getAttribute('data-state')).toBe('suspended');
      expect(await plain.locator('#verdict').getAttribute('data-source')).toBe('server');
      expect(await plain.locator('#verdict-label').textContent()).toBe('Suspended');
      expect(await plain.locator('noscript').count()).toBe(1);
      expect(await plain.locator('#checks li[data-check="signature"]').getAttribute('data-ok')).toBe('true');
      await plain.screenshot({ path: screenshotPath('verify-DEMO-0005-nojs-1280'), fullPage: true });
    } finally {
      await noJs.close();
    }
  });

  it('is keyboard-usable and labelled: lang, one h1, skip link, named buttons', async () => {
    const page = await newPage(desktop);
    await openVerified(page, 'DEMO-0001');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h1').count()).toBe(1);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    const unnamed = await page.locator('button:visible').evaluateAll((buttons) =>
      buttons.filter((b) => !(b.getAttribute('aria-label') || b.textContent?.trim())).length,
    );
    expect(unnamed).toBe(0);
    // Copy buttons work from the keyboard (clipboard granted).
    await desktop.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: registry.server.url });
    const copy = page.locator('.models button.copy').first();
    await copy.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/^sha256:[0-9a-f]{64}$/);
    await page.close();
  });

  it('shows "not authentic" when the bundle is altered in transit, even though the server page says Valid', async () => {
    const page = await newPage(desktop);
    await page.route('**/api/v1/certificates/demo-cb/DEMO-0001/bundle', async (route) => {
      const response = await route.fetch();
      const bundle = (await response.json()) as { entries: Array<{ entry: string }> };
      for (const e of bundle.entries) {
        const text = new TextDecoder().decode(fromBase64(e.entry));
        if (text.includes('"certificate.issued"')) e.entry = toBase64(new TextEncoder().encode(text.replace('chest X-ray', 'chest X-rax')));
      }
      await route.fulfill({ response, json: bundle });
    });
    await openVerified(page, 'DEMO-0001');
    expect(await page.locator('#main').getAttribute('data-server-state')).toBe('valid');
    expect(await page.locator('#verdict').getAttribute('data-state')).toBe('not-authentic');
    expect(await page.locator('#verdict-label').textContent()).toBe('Not authentic');
    expect(await page.locator('#verdict .verdict__warning').textContent()).toContain('The registry\'s page said “Valid”');
    expect(await page.locator('#checks li[data-check="signature"]').getAttribute('data-ok')).toBe('false');
    expect(await page.locator('#checks li[data-check="logged"]').getAttribute('data-ok')).toBe('false');
    await page.screenshot({ path: screenshotPath('verify-tampered-in-transit-1280'), fullPage: true });
    await page.close();
  });

  it('shows "not authentic" for a certificate whose stored entry bytes were tampered with', async () => {
    const api = (await (await fetch(url('/api/v1/certificates/demo-cb/DEMO-0002'))).json()) as { issued: { index: number } };
    const db = new Database(join(registry.server.dir, 'certrail.db'));
    try {
      const row = db.prepare('SELECT data FROM log_entries WHERE idx = ?').get(api.issued.index) as { data: Buffer };
      const text = row.data.toString('utf8');
      const tampered = text.replace('fleet planning', 'fleet plannin9');
      expect(tampered).not.toBe(text);
      JSON.parse(tampered); // still valid JSON, same length
      db.prepare('UPDATE log_entries SET data = ? WHERE idx = ?').run(Buffer.from(tampered, 'utf8'), api.issued.index);
    } finally {
      db.close();
    }
    const page = await newPage(desktop);
    const response = await page.goto(url('/v/demo-cb/DEMO-0002'));
    expect(response?.status()).toBe(200); // the server still answers
    await page.waitForSelector('#main[data-checked="browser"]');
    expect(await page.locator('#verdict').getAttribute('data-state')).toBe('not-authentic');
    expect(await page.locator('#verdict-label').textContent()).toBe('Not authentic');
    for (const name of ['signature', 'logged', 'events']) {
      expect(await page.locator(`#checks li[data-check="${name}"]`).getAttribute('data-ok'), name).toBe('false');
      expect(await page.locator(`#checks li[data-check="${name}"] .check__mark`).textContent(), name).toBe('✗');
    }
    expect(await page.locator(`#proofs li[data-entry="${api.issued.index}"]`).getAttribute('data-ok')).toBe('false');
    expect(await page.locator('[data-field="scope"]').textContent()).toContain('fleet plannin9');
    await page.screenshot({ path: screenshotPath('verify-tampered-stored-1280'), fullPage: true });
    await page.close();
  });

  it('ran without console errors or CSP violations', () => {
    expect(problems).toEqual([]);
  });
});
