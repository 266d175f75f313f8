// `certrail export <certificate id> --format sigstore|vc-jwt|vc`: a logged certificate in the formats other
// ecosystems read.
//
//   sigstore  a Sigstore bundle v0.3 (DSSE envelope of an in-toto Statement v1: subjects = the certified model
//             digests, predicate = the credential), signed with the CB key through @sigstore/sign (sigstore.ts)
//   vc-jwt    the credential secured with JOSE, `application/vc+jwt` (W3C VC-JOSE-COSE), signed with the CB key
//             (vc-jwt.ts)
//   vc        the bare credential with its Data Integrity proof, as logged: its RFC 8785 bytes (`application/vc`)
//
// The credential comes from the registry (GET /api/v1/certificates/{issuer}/{number}). Before the CB key signs
// anything, the CLI checks what it is about to attest, trusting the registry as little as it can:
// - the credential is the one asked for (its id) and a well-formed certificate of the key's own issuer;
// - its embedded proof verifies: locally, when it was made with the same key; otherwise against the key that the
//   issuer's logged key history (GET /api/v1/issuers/{slug}) lists for its verification method;
// - it is neither revoked nor suspended (a fresh signature must not re-attest a withdrawn certificate);
// - the key is an active key of the issuer in the registry's JWKS, so relying parties can verify the output.
// The CB key never leaves this process. Exit codes: 0 success, 2 usage error, an unreachable registry, a problem
// answer or a refused check.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { certificateSchema, parseDocument, splitCertificateId, splitVerificationMethod, type Certificate } from '../core/credential.js';
import { verifyDataIntegrity } from '../core/data-integrity.js';
import { RegistryError } from '../core/errors.js';
import { canonicalize } from '../core/jcs.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
import { decodeMultikey } from '../core/multibase.js';
import { optionsFromEnv } from '../node.js';
import { readCbKeyFile, type CbKey } from './cb-session.js';
import { UsageError } from './issuer.js';
import { parseCertificateRef, RegistryClient, registryUrlFor } from './registry-client.js';
import { SIGSTORE_BUNDLE_MEDIA_TYPE, sigstoreBundleOf } from './sigstore.js';
import { VC_JWT_MEDIA_TYPE, vcJwtOf } from './vc-jwt.js';

const FORMATS = ['sigstore', 'vc-jwt', 'vc'] as const;
type Format = (typeof FORMATS)[number];

const MEDIA_TYPES: Record<Format, string> = {
  sigstore: SIGSTORE_BUNDLE_MEDIA_TYPE,
  'vc-jwt': VC_JWT_MEDIA_TYPE,
  vc: 'application/vc',
};

/** A CB-made export must not re-attest a certificate in these states. */
const REFUSED_STATUSES = ['revoked', 'suspended'];

const HELP = `certrail export <certificate id | verify URL | SLUG/NUMBER> --format FORMAT [options]:
export a logged certificate

  --format sigstore     a Sigstore bundle v0.3 (${SIGSTORE_BUNDLE_MEDIA_TYPE}): a DSSE envelope of an
                        in-toto Statement v1 whose subjects are the certified model digests and whose predicate
                        (type https://certrail.dev/AISecurityCertificate/v1) is the credential; signed with the CB
                        key, offline (no Rekor, no Fulcio, no timestamp); the key hint is <issuer id>#<key id>
  --format vc-jwt       the credential secured with JOSE (${VC_JWT_MEDIA_TYPE}, W3C VC-JOSE-COSE): payload = the
                        credential without its Data Integrity proof; header alg EdDSA, typ vc+jwt, cty vc,
                        kid = key id in the issuer's JWKS, iss = issuer id
  --format vc           the credential as logged, with its Data Integrity proof (RFC 8785 JSON); needs no key
  --key FILE            the CB's signing key, named <slug>.<key id> (certrail keygen --issuer);
                        default $CERTRAIL_KEYS/<slug>.key = keys/<slug>.key
  --out FILE            write the export to FILE instead of stdout
  --registry URL        the registry (default: $CERTRAIL_URL, else the base URL of a verify URL given as the id,
                        else http://$HOST:$PORT = http://127.0.0.1:8787)
  -h, --help            this help

Before signing, the CLI checks that the credential's proof verifies, that the certificate is neither revoked nor
suspended and that the key is an active key of the certificate's issuer in the registry's JWKS.`;

interface Io {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (line: string) => void;
}

/** The CB key of the issuer, from a file made by `certrail keygen --issuer`; refuses another issuer's key. */
async function readIssuerKey(path: string, slug: string): Promise<CbKey & { path: string }> {
  let key: CbKey;
  try {
    key = await readCbKeyFile(path);
  } catch (error) {
    throw new Error(`cannot read the CB key ${path}: ${error instanceof Error ? error.message : String(error)} (--key FILE)`);
  }
  if (key.issuer !== slug) {
    throw new Error(`${path} holds the key "${key.issuer}.${key.keyId}", not a key of ${slug} (a key named ${slug}.<key id>)`);
  }
  return { ...key, path };
}

function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** The key must be an active key of the issuer as the registry publishes it, or nobody could verify the export. */
async function checkKeyIsActive(registry: RegistryClient, slug: string, key: CbKey & { path: string }): Promise<void> {
  const jwksPath = `/api/v1/issuers/${slug}/jwks.json`;
  const jwks = await registry.request('GET', jwksPath);
  const keys = isJsonObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys : [];
  const listed = keys.find((k) => isJsonObject(k) && k.kid === key.keyId);
  if (!isJsonObject(listed)) {
    throw new Error(`key ${key.keyId} of ${slug} (${key.path}) is not an active key in ${registry.url}${jwksPath}; sign with an active key`);
  }
  if (listed.x !== base64Url(key.publicKey)) {
    throw new Error(`${key.path} is not the key ${key.keyId} that ${registry.url}${jwksPath} lists for ${slug}`);
  }
}

/**
 * The credential's embedded proof must verify: with the local key when it made the proof (no trust in the
 * registry), else with the key the issuer's logged key history lists for the proof's verification method.
 */
async function checkProof(registry: RegistryClient, slug: string, credential: JsonObject, parsed: Certificate, key: CbKey): Promise<void> {
  const method = splitVerificationMethod(parsed.proof.verificationMethod);
  if (method === null) throw new Error(`the credential's verificationMethod ${parsed.proof.verificationMethod} is malformed`);
  let publicKey: Uint8Array;
  if (method.keyId === key.keyId) {
    publicKey = key.publicKey;
  } else {
    const profile = await registry.request('GET', `/api/v1/issuers/${slug}`);
    const keys = isJsonObject(profile) && Array.isArray(profile.keys) ? profile.keys : [];
    const listed = keys.find((k) => isJsonObject(k) && k.keyId === method.keyId);
    if (!isJsonObject(listed) || typeof listed.publicKeyMultibase !== 'string') {
      throw new Error(`the credential was signed with key ${method.keyId}, which ${slug} never registered`);
    }
    publicKey = decodeMultikey(listed.publicKeyMultibase);
  }
  const result = await verifyDataIntegrity(credential, publicKey);
  if (!result.ok) throw new Error(`the credential's Data Integrity proof does not verify (${result.detail}); not exporting it`);
}

async function exportCertificate(args: string[], io: Io): Promise<void> {
  let parsedArgs;
  try {
    parsedArgs = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        key: { type: 'string' },
        out: { type: 'string' },
        registry: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
  }
  const { values, positionals } = parsedArgs;
  if (values.help) return io.out(`${HELP}\n`);
  if (positionals.length !== 1) {
    throw new UsageError(`expected one certificate id, got ${positionals.length === 0 ? 'nothing' : positionals.join(' ')}\n\n${HELP}`);
  }
  if (values.format === undefined) throw new UsageError(`--format is required (${FORMATS.join(', ')})\n\n${HELP}`);
  if (!(FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format ${values.format}: must be one of ${FORMATS.join(', ')}\n\n${HELP}`);
  }
  const format = values.format as Format;
  const target = parseCertificateRef(positionals[0]!);
  if (target === null) {
    throw new UsageError(`"${positionals[0]}" is not a certificate id (<base>/v/<issuer>/<number>) nor <issuer>/<number>\n\n${HELP}`);
  }
  const registry = new RegistryClient(registryUrlFor(values.registry, io.env, target));

  // Read the key before asking the registry anything: a missing key is a usage problem, found without a round trip.
  const key = format === 'vc' ? null : await readIssuerKey(values.key ?? join(optionsFromEnv(io.env).keyDir, `${target.issuer}.key`), target.issuer);

  const view = await registry.request('GET', `/api/v1/certificates/${target.issuer}/${encodeURIComponent(target.number)}`);
  if (!isJsonObject(view) || !isJsonObject(view.credential)) throw new Error(`${registry.url} did not answer with a certificate`);
  const credential = view.credential;
  let parsed: Certificate;
  try {
    parsed = parseDocument(certificateSchema, credential);
  } catch (error) {
    throw new Error(`the registry's credential is not a well-formed certificate: ${error instanceof RegistryError ? error.detail : String(error)}`);
  }
  const served = splitCertificateId(parsed.id);
  if (
    (target.id !== null && parsed.id !== target.id) ||
    served === null ||
    served.issuer !== target.issuer ||
    served.number !== target.number
  ) {
    throw new Error(`${registry.url} answered with certificate ${parsed.id}, not ${target.id ?? `${target.issuer}/${target.number}`}`);
  }
  if (parsed.issuer.id !== `${served.baseUrl}/issuers/${target.issuer}`) {
    throw new Error(`certificate ${parsed.id} names the issuer ${parsed.issuer.id}, not ${target.issuer}`);
  }

  let output: string;
  if (key === null) {
    output = `${canonicalize(credential)}\n`;
  } else {
    const status = typeof view.status === 'string' ? view.status : null;
    if (status !== null && REFUSED_STATUSES.includes(status)) {
      throw new Error(`certificate ${parsed.id} is ${status}; a ${format} export would re-attest it (--format vc exports it as logged)`);
    }
    await checkProof(registry, target.issuer, credential, parsed, key);
    await checkKeyIsActive(registry, target.issuer, key);
    if (format === 'sigstore') {
      const bundle = await sigstoreBundleOf(credential, parsed, {
        seed: key.seed,
        publicKey: key.publicKey,
        keyHint: `${parsed.issuer.id}#${key.keyId}`,
      });
      output = `${JSON.stringify(bundle)}\n`;
    } else {
      output = `${await vcJwtOf(credential, parsed, { seed: key.seed, publicKey: key.publicKey, keyId: key.keyId })}\n`;
    }
  }

  if (values.out === undefined) return io.out(output);
  writeFileSync(values.out, output);
  io.out(`wrote ${values.out} (${MEDIA_TYPES[format]}) for ${parsed.id}\n`);
}

/** Runs `certrail export <args>`; returns the exit code. */
export async function exportCommand(
  args: string[],
  io: Io = { env: process.env, out: (text) => process.stdout.write(text), err: (line) => console.error(line) },
): Promise<number> {
  try {
    await exportCertificate(args, io);
    return 0;
  } catch (error) {
    io.err(`certrail export: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}
