// The offline verification SDK (`certrail/verify`, src/core/verify.ts bundled into dist/verify.js):
// - the esbuild bundle imports nothing from Node (its metafile is scanned; a planted Node import is caught);
// - src/core uses no Node API (a TypeScript walk: node builtin imports, and globals such as Buffer and process that
//   only @types/node declares);
// - the built bundle, imported in a plain Node process through the package self-reference, gives the same verdicts
//   as the sources;
// - for every demo status, the SDK's verdict on the certificate's bundle equals the API's verdict;
// - the README's SDK samples run as written (with and without the Node hooks).
// test/workerd/ runs the same bundle inside workerd.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSdk, isNodeBuiltin, type SdkBuild } from '../../scripts/build/sdk.js';
import { BUNDLE_MEDIA_TYPE, parseBundle, RegistryError, verifyBundle, type Bundle, type BundleVerdict, type TrustPolicy } from '../../src/core/verify.js';
import { DEMO_ISSUER, seedDemo } from '../../src/demo.js';
import { parseJsonStrict, type JsonValue } from '../../src/core/json.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const execFileAsync = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORE = join(ROOT, 'src', 'core');

/** dist/verify.js, built once for this file. */
let sdk: Promise<SdkBuild> | undefined;
const builtSdk = (): Promise<SdkBuild> => (sdk ??= buildSdk());

// ---------------------------------------------------------------------------------------------------------------
// Static scan of TypeScript sources

/** Globals that only Node provides (declared by @types/node alone, not by the ES or DOM libs). */
function nodeApiUses(files: readonly string[]): string[] {
  const program = ts.createProgram([...files], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const found: string[] = [];
  const fromNodeTypes = (d: ts.Declaration) => /[\\/]node_modules[\\/]@types[\\/]node[\\/]/.test(d.getSourceFile().fileName);
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not in the program: ${file}`);
    const where = (node: ts.Node) => `${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      // import … from 'x', export … from 'x', import('x'), require('x')
      let specifier: ts.Expression | undefined;
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) specifier = node.moduleSpecifier;
      if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
        specifier = node.arguments[0];
      }
      if (specifier && ts.isStringLiteralLike(specifier) && isNodeBuiltin(specifier.text)) found.push(`${where(node)} imports ${specifier.text}`);
      // A free identifier whose every declaration is in @types/node: Buffer, process, require, __dirname, setImmediate…
      // (Property names, `x.env`, and import/export specifiers, covered above, are not free identifiers.)
      const parent = node.parent;
      const bound = parent && ((ts.isPropertyAccessExpression(parent) && parent.name === node) || ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent));
      if (ts.isIdentifier(node) && !bound) {
        const symbol = checker.getSymbolAtLocation(node);
        const declarations = symbol?.getDeclarations() ?? [];
        if (declarations.length > 0 && declarations.every(fromNodeTypes)) found.push(`${where(node)} uses the Node global ${node.text}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

function coreFiles(): string[] {
  return readdirSync(CORE)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(CORE, f));
}

describe('the SDK runs anywhere: no Node imports', () => {
  const scratch = tempDir('certrail-sdk-');
  let build: SdkBuild;
  beforeAll(async () => {
    build = await builtSdk();
  });
  afterAll(() => scratch.remove());

  it('bundles src/core/verify.ts into a self-contained dist/verify.js that imports nothing from Node', () => {
    expect(build.outfile).toBe(join(ROOT, 'dist', 'verify.js'));
    expect(build.nodeImports).toEqual([]);
    const [output] = Object.entries(build.metafile.outputs).filter(([file]) => file.endsWith('verify.js'));
    expect(output, 'the metafile names the bundle').toBeDefined();
    // Self-contained: not even a non-Node import is left for a runtime to resolve.
    expect(output![1].imports).toEqual([]);
    // The SDK surface, kept small on purpose (types come from src/core/verify.ts).
    expect(output![1].exports.sort()).toEqual(['BUNDLE_MEDIA_TYPE', 'MAX_BUNDLE_ENTRIES', 'RegistryError', 'parseBundle', 'useEd25519Verify', 'useSha256', 'verifyBundle']);
    // Nothing in the inputs imports a Node builtin either (a dead import would have been dropped from the output).
    for (const input of Object.values(build.metafile.inputs)) {
      for (const i of input.imports) expect(isNodeBuiltin(i.original ?? i.path), i.path).toBe(false);
    }
  });

  it('the metafile scan catches a node: import and a bare builtin', async () => {
    const entry = join(scratch.path, 'leaky.ts');
    writeFileSync(
      entry,
      [
        "import { createHash } from 'node:crypto';",
        "import { readFileSync } from 'fs';",
        "import { Buffer } from 'buffer';",
        'export const hash = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex") + Buffer.alloc(0).length;',
      ].join('\n'),
    );
    const leaky = await buildSdk({ entry, outfile: join(scratch.path, 'out', 'leaky.js') });
    expect(leaky.nodeImports.join('\n')).toMatch(/node:crypto/);
    expect(leaky.nodeImports.join('\n')).toMatch(/→ fs\b/);
    expect(leaky.nodeImports.join('\n')).toMatch(/→ buffer\b/);
  });

  it('no file of src/core imports a Node builtin or uses a Node-only global', () => {
    const files = coreFiles();
    expect(files.map((f) => relative(CORE, f))).toContain('verify.ts');
    expect(nodeApiUses(files)).toEqual([]);
  });

  it('the static scan catches node: imports, bare builtins, Buffer and process', () => {
    const dir = join(scratch.path, 'src');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'leaky.ts');
    writeFileSync(
      file,
      [
        "import { join } from 'node:path';",
        "export { randomBytes } from 'crypto';",
        'export const a = Buffer.from("x").length + join("a").length;',
        'export const b = process.env.HOME ?? "";',
        'export const ok = { process: 1, Buffer: 2 }.process + new TextEncoder().encode("x").length;',
      ].join('\n'),
    );
    const found = nodeApiUses([file]);
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/imports node:path/);
    expect(found.join('\n')).toMatch(/imports crypto/);
    expect(found.join('\n')).toMatch(/Node global Buffer/);
    expect(found.join('\n')).toMatch(/Node global process/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Verdicts for every demo status

/** The fields of a verdict that the API and the SDK must agree on. */
function verdictFields(v: { valid: boolean; status: unknown; surveillance: unknown; surveillanceDue: unknown; validFrom: unknown; validUntil: unknown }) {
  return { valid: v.valid, status: v.status, surveillance: v.surveillance, surveillanceDue: v.surveillanceDue, validFrom: v.validFrom, validUntil: v.validUntil };
}

interface ApiVerdict {
  id: string;
  valid: boolean;
  status: string | null;
  surveillance: string | null;
  surveillanceDue: string | null;
  validFrom: string | null;
  validUntil: string | null;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

/**
 * Runs dist/verify.js in a fresh Node process, imported as `certrail/verify`, on bundles given on stdin; with
 * `nativeCrypto`, Node's SHA-256 and Ed25519 verification are plugged in through the SDK's hooks first.
 */
function verifyInNode(
  input: { policy: TrustPolicy; now: number; bundles: JsonValue[] },
  nativeCrypto = false,
): { resolved: string; verdicts: BundleVerdict[] } {
  const script = `
    import { createPublicKey, hash, verify } from 'node:crypto';
    import { parseBundle, useEd25519Verify, useSha256, verifyBundle } from 'certrail/verify';
    if (${nativeCrypto}) {
      const spki = Buffer.from('302a300506032b6570032100', 'hex');
      useSha256((data) => hash('sha256', data, 'buffer'));
      useEd25519Verify((pk, msg, sig) => verify(null, msg, createPublicKey({ key: Buffer.concat([spki, pk]), format: 'der', type: 'spki' }), sig));
      // WebCrypto is taken away (noble's fallback needs its SHA-512), so a signature that verifies went through the hook.
      Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined });
    }
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const input = JSON.parse(text);
    const verdicts = [];
    for (const b of input.bundles) verdicts.push(await verifyBundle(parseBundle(b), input.policy, { now: input.now }));
    process.stdout.write(JSON.stringify({ resolved: import.meta.resolve('certrail/verify'), verdicts }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 20_000,
    // A plain Node: no loader from the test runner.
    env: { PATH: process.env.PATH ?? '' },
  });
  if (child.status !== 0) throw new Error(`node exited with ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout) as { resolved: string; verdicts: BundleVerdict[] };
}

describe('SDK verdicts for every demo status', () => {
  const dir = tempDir();
  let server: TestServer;
  let policy: TrustPolicy;
  let numbers: string[];
  const bundles = new Map<string, JsonValue>();
  const api = new Map<string, ApiVerdict>();
  let now: number;

  beforeAll(async () => {
    server = await startTestServer(dir.path);
    const demo = await seedDemo({ registry: server.registry, views: server.views, baseUrl: server.config.baseUrl });
    expect(demo).not.toBeNull();
    numbers = demo!.map((c) => c.number);
    const wellKnown = (await (await fetch(`${server.url}/.well-known/certrail`)).json()) as { logVerifierKey: string; registryKey: string };
    // The policy a relying party pins on first use: the keys the registry announces.
    policy = { log: wellKnown.logVerifierKey, registryKey: wellKnown.registryKey, witnesses: [], quorum: 0 };
    now = Date.now();
    for (const number of numbers) {
      const res = await fetch(`${server.url}/api/v1/certificates/${DEMO_ISSUER}/${number}/bundle`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(BUNDLE_MEDIA_TYPE);
      bundles.set(number, parseJsonStrict(await res.text()));
      const verdict = await fetch(`${server.url}/v/${DEMO_ISSUER}/${number}`, { headers: { accept: 'application/json' } });
      api.set(number, (await verdict.json()) as ApiVerdict);
    }
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('the demo covers every status and surveillance state', () => {
    const verdicts = [...api.values()];
    expect(new Set(verdicts.map((v) => v.status))).toEqual(new Set(['active', 'suspended', 'revoked', 'expired', 'not-yet-valid']));
    expect(new Set(verdicts.map((v) => v.surveillance))).toEqual(new Set(['current', 'due', 'overdue']));
    expect(policy).toMatchObject({ log: server.config.logVerifierKey, registryKey: server.config.registryKey });
  });

  it.each(['DEMO-0001', 'DEMO-0002', 'DEMO-0003', 'DEMO-0004', 'DEMO-0005', 'DEMO-0006', 'DEMO-0007', 'DEMO-0008'])(
    '%s: the SDK verdict from the bundle equals the API verdict',
    async (number) => {
      const expected = api.get(number)!;
      const verdict = await verifyBundle(parseBundle(bundles.get(number)!), policy, { now });
      expect(verdictFields(verdict), number).toEqual(verdictFields(expected));
      expect(verdict.certificate).toBe(expected.id);
      // Each check the API makes has the same outcome offline; the bundle adds the checkpoint and witness checks.
      const outcome = (checks: ReadonlyArray<{ name: string; ok: boolean }>) => Object.fromEntries(checks.map((c) => [c.name, c.ok]));
      expect(outcome(verdict.checks)).toEqual({ ...outcome(expected.checks), checkpoint: true, witnesses: true });
      // What does not depend on the certificate's state passes for every demo certificate.
      for (const name of ['checkpoint', 'witnesses', 'signature', 'issuer-key', 'logged', 'events']) {
        expect(verdict.checks.find((c) => c.name === name), `${number} ${name}`).toMatchObject({ ok: true });
      }
    },
  );

  it('dist/verify.js, imported as certrail/verify in a plain Node process, gives the same verdicts as the sources', async () => {
    await builtSdk();
    const all = numbers.map((n) => bundles.get(n)!);
    const fromDist = verifyInNode({ policy, now, bundles: all });
    expect(fromDist.resolved).toBe(new URL('../../dist/verify.js', import.meta.url).href);
    const fromSource = await Promise.all(all.map((b) => verifyBundle(parseBundle(b), policy, { now })));
    expect(fromDist.verdicts).toEqual(fromSource);
    expect(fromDist.verdicts.map((v) => v.status)).toEqual(numbers.map((n) => api.get(n)!.status));
  });

  it('the README samples run as written against a registry, with dist/verify.js, with and without the Node hooks', async () => {
    await builtSdk();
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Offline verification (SDK)'));
    const [sample, hooks] = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(sample, 'a js code block in the README SDK section').toBeDefined();
    expect(hooks, 'the Node hooks block after it').toMatch(/useEd25519Verify/);
    // Asynchronously: the registry the sample fetches from is served by this process. Then again with the Node hooks
    // block run first, as a Node user would.
    for (const code of [sample!, `${hooks!}\n${sample!}`]) {
      const child = await execFileAsync(process.execPath, ['--input-type=module', '-e', `const registry = ${JSON.stringify(server.url)};\n${code}`], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 20_000,
        env: { PATH: process.env.PATH ?? '' },
      });
      expect(child.stderr).toBe('');
      expect(child.stdout).toBe('true active current\n');
    }
  });

  it('parseBundle refuses what is not a bundle', () => {
    expect(() => parseBundle({ mediaType: 'application/json' })).toThrow(RegistryError);
    const bundle = structuredClone(bundles.get('DEMO-0001')!) as unknown as Bundle;
    expect(() => parseBundle({ ...bundle, entries: [{ index: -1, entry: '', tlogProof: '' }] } as unknown as JsonValue)).toThrow(/index, entry and tlogProof/);
  });

  it("with Node's native SHA-256 and Ed25519 plugged in through the SDK's hooks, the same verdicts, valid or tampered", async () => {
    await builtSdk();
    const tampered = structuredClone(bundles.get('DEMO-0002')!) as unknown as Bundle;
    const last = tampered.entries[tampered.entries.length - 1]!;
    last.entry = last.entry.slice(0, 10) + (last.entry[10] === 'A' ? 'B' : 'A') + last.entry.slice(11);
    const all = [...numbers.map((n) => bundles.get(n)!), tampered as unknown as JsonValue];
    const plain = verifyInNode({ policy, now, bundles: all }).verdicts;
    const native = verifyInNode({ policy, now, bundles: all }, true).verdicts;
    expect(native).toEqual(plain);
    expect(native.at(-1)!.valid).toBe(false);
    expect(native.slice(0, -1).every((v) => v.checks.find((c) => c.name === 'signature')?.ok === true)).toBe(true);
  });

  it('a tampered bundle fails in the built SDK as in the sources', async () => {
    const bundle = structuredClone(bundles.get('DEMO-0001')!) as unknown as Bundle;
    const last = bundle.entries[bundle.entries.length - 1]!;
    last.entry = last.entry.slice(0, 10) + (last.entry[10] === 'A' ? 'B' : 'A') + last.entry.slice(11);
    await builtSdk();
    const [fromDist] = verifyInNode({ policy, now, bundles: [bundle as unknown as JsonValue] }).verdicts;
    expect(fromDist!.valid).toBe(false);
    expect(fromDist).toEqual(await verifyBundle(bundle, policy, { now }));
  });
});
