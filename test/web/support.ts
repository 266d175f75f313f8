// Browser test support: Debian's Chromium driven by playwright-core, a registry with the demo data on loopback, and
// helpers to issue extra certificates in-process (managed signing of the demo CB) and to decode QR codes.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import jsQRModule from 'jsqr';
import { toHex } from '../../src/core/bytes.js';
import { randomBytes } from '../../src/core/crypto.js';
import type { JsonObject } from '../../src/core/json.js';
import { DEMO_ISSUER } from '../../src/demo.js';
import { startDemo } from '../../src/node.js';
import { MANAGED_KEY_ID } from '../../src/registry/registry.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

// jsqr is CommonJS: its module object is the decoder and also carries it as `default`, which is what its types name.
const jsQR = jsQRModule.default;

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
export const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

/** Launches Debian's Chromium (`apt-get install -y chromium`; `.ci/run` does it on a fresh machine). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run apt-get install -y chromium, or set CHROMIUM to its path`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export function screenshotPath(name: string): string {
  return join(SCREENSHOTS, `${name}.png`);
}

export interface DemoRegistry {
  server: TestServer;
  close(): Promise<void>;
}

/** A registry on loopback with the demo data seeded (as `npm start` does on an empty database). */
export async function startDemoRegistry(): Promise<DemoRegistry> {
  const dir = tempDir('certrail-web-');
  const server = await startTestServer(dir.path);
  const log = console.log;
  console.log = () => {};
  try {
    await startDemo(server, {});
  } finally {
    console.log = log;
  }
  return {
    server,
    async close() {
      await server.close();
      dir.remove();
    },
  };
}

const DAY = 24 * 60 * 60 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Issues one more demo-CB certificate (managed signing, in process) covering the given models. */
export async function issueExtra(
  server: TestServer,
  number: string,
  fields: { organization: string; system: string; scope: string; models: Array<{ name: string; digest: string; method: 'file' | 'files' }> },
): Promise<void> {
  const now = Date.now();
  const draft: JsonObject = {
    validFrom: iso(now - 30 * DAY),
    validUntil: iso(now + 700 * DAY),
    credentialSubject: {
      type: 'CertifiedAISystem',
      organization: { name: fields.organization },
      system: { name: fields.system, version: '1.0.0' },
      models: fields.models.map((m) => ({ name: m.name, digest: m.digest, serialization: { method: m.method, hashType: 'sha256' } })),
      certificate: {
        number,
        scope: fields.scope,
        standards: [{ id: 'ISO/IEC 42001:2023' }],
        surveillance: { intervalMonths: 12, firstDueBy: iso(now + 300 * DAY) },
      },
    },
  };
  const actor = { issuer: DEMO_ISSUER, keyId: MANAGED_KEY_ID, jti: `test-${toHex(randomBytes(12))}`, expiresAt: now + 60_000 };
  await server.registry.issueCertificate(actor, draft);
}

/** Decodes the QR code in a PNG (drawn on a canvas in a blank page, decoded with jsQR in Node). */
export async function decodeQrPng(page: Page, png: Buffer): Promise<string | null> {
  const base64 = png.toString('base64');
  const image = await page.evaluate(async (data: string) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(img, 0, 0);
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { width: pixels.width, height: pixels.height, data: Array.from(pixels.data) };
  }, base64);
  const code = jsQR(Uint8ClampedArray.from(image.data), image.width, image.height);
  return code?.data ?? null;
}

/** Milliseconds from navigation start to the page script's `certrail:verified` mark. */
export async function timeToVerdict(page: Page): Promise<number> {
  return page.evaluate(() => performance.getEntriesByName('certrail:verified')[0]?.startTime ?? Number.NaN);
}
