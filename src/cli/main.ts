// The certrail command: one sub-command per file under src/cli, dispatched here and loaded only when it runs (a
// client command does not load the server). Exit codes: 0 success, 1 a negative
// answer (verify, status: not valid; import: some rows failed), 2 usage or runtime error.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ISSUER_SLUG, KEY_ID } from '../core/credential.js';
import { encodeMultikey } from '../core/multibase.js';
import { createKeyFile } from './keyfile.js';

const USAGE = `certrail <command> [options]

Commands:
  serve                 run the registry (same as npm start); env HOST, PORT, CERTRAIL_DB, CERTRAIL_ORIGIN, CERTRAIL_KEYS
  keygen [--name N] [--out FILE]
                        write a new Ed25519 signer key (mode 0600) and print its verifier key;
                        default: the log key, keys/log.key, named after the log origin
  keygen --issuer SLUG [--key-id ID] [--out FILE]
                        a certification body's key (default keys/SLUG.key, key id key-1, key name SLUG.ID);
                        prints its public key (z6Mk…) for "certrail issuer add"
  issuer add|list|show|key add|key revoke …
                        operator commands against a running registry (--registry URL, default
                        $CERTRAIL_URL or http://127.0.0.1:8787); "certrail issuer --help" for details
  export <certificate id> --format sigstore|vc-jwt|vc [--key FILE] [--out FILE]
                        a logged certificate as a Sigstore bundle (DSSE, in-toto), a VC-JOSE JWT (both signed
                        with the CB key) or the bare credential; "certrail export --help" for details
  verify <bundle.json | verify URL | issuer/number> [--policy FILE] [--at ISO] [--json]
                        check a certificate on this machine from a proof bundle (0 valid, 1 not valid)
  status <verify URL | issuer/number> [--json]
                        the registry's own verdict on a certificate (its word; verify checks it yourself)
  issue <cert.json> --key FILE
                        certification body: sign a certificate locally and log it
  event <verify URL | issuer/number> suspend|reinstate|revoke|audit|recertify|scope --key FILE …
                        certification body: sign a status event locally and log it
  import <file.csv | file.jsonl> --key FILE [--batch N] [--state FILE]
                        certification body: bulk issuance, resumable without duplicates
  model digest <file | directory> [--json]
                        the OpenSSF model-signing v1.0 digest of a model (streamed)
  witness --log VKEY [--port P] [--db FILE] [--key FILE]
                        run a C2SP tlog-witness (POST /add-checkpoint) that cosigns the log's checkpoints
  monitor <registry URL> [--db FILE] [--watch]
                        mirror and audit the whole log; exit code 1 on any anomaly (rollback, fork, bad entry)
  help                  this text

Each command has --help; docs/CLI.md describes them all.

Exit codes: 0 success, 1 negative verdict (not valid; import: rows failed), 2 usage or runtime error.`;

async function keygen(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, out: { type: 'string' }, issuer: { type: 'string' }, 'key-id': { type: 'string' } },
  });
  const { optionsFromEnv } = await import('../node.js');
  const env = optionsFromEnv();
  if (values.issuer !== undefined) {
    // A certification body's signing key: named <slug>.<keyId> like the registry's managed keys.
    const keyId = values['key-id'] ?? 'key-1';
    if (!ISSUER_SLUG.test(values.issuer)) throw new Error(`--issuer ${values.issuer}: not an issuer slug (lowercase letters, digits, inner hyphens)`);
    if (!KEY_ID.test(keyId)) throw new Error(`--key-id ${keyId}: 1 to 64 letters, digits and ._-`);
    if (values.name !== undefined) throw new Error('--name and --issuer exclude each other (the key name is <issuer>.<key-id>)');
    const out = values.out ?? join(env.keyDir, `${values.issuer}.key`);
    const key = await createKeyFile(out, `${values.issuer}.${keyId}`);
    const multikey = encodeMultikey(key.publicKey);
    console.log(`wrote ${out} (mode 0600)`);
    console.log(`public key (Multikey): ${multikey}`);
    console.log(`register it: certrail issuer add ${values.issuer} --name "…" --key ${keyId}=${multikey}`);
    console.log(`  or, for a registered CB: certrail issuer key add ${values.issuer} ${keyId} ${multikey}`);
    return;
  }
  if (values['key-id'] !== undefined) throw new Error('--key-id needs --issuer');
  const out = values.out ?? join(env.keyDir, 'log.key');
  const key = await createKeyFile(out, values.name ?? env.logOrigin);
  console.log(`wrote ${out} (mode 0600)`);
  console.log(`verifier key: ${key.vkey}`);
}

async function serveCommand(): Promise<void> {
  const { optionsFromEnv, startDemo, startNodeServer } = await import('../node.js');
  const options = optionsFromEnv();
  const server = await startNodeServer(options);
  await startDemo(server);
  console.log(`Certrail listening on http://${options.host}:${server.port}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      await serveCommand();
      return 0;
    case 'keygen':
      await keygen(rest);
      return 0;
    case 'issuer':
      return (await import('./issuer.js')).issuerCommand(rest);
    case 'verify':
      return (await import('./verify.js')).verifyCommand(rest);
    case 'status':
      return (await import('./status.js')).statusCommand(rest);
    case 'issue':
      return (await import('./issue.js')).issueCommand(rest);
    case 'event':
      return (await import('./event.js')).eventCommand(rest);
    case 'import':
      return (await import('./import.js')).importCommand(rest);
    case 'model':
      return (await import('./model.js')).modelCommand(rest);
    case 'export':
      return (await import('./export.js')).exportCommand(rest);
    case 'witness':
      return (await import('./witness.js')).witnessCommand(rest);
    case 'monitor':
      return (await import('./monitor.js')).monitorCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`certrail: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
