// `certrail issue <cert.json> --key FILE`: a certification body issues one certificate. The draft (the certificate
// draft shape, docs/API.md) is completed with the registry's base URL and the CB's registered name, signed here with
// the CB's key (eddsa-jcs-2022) and posted with a fresh single-use JWT and an Idempotency-Key derived from the
// certificate number and content. The receipt is checked against the log key before it is reported.
//
// Retry safety: running the same command again after a lost answer does not log a second certificate. The registry
// refuses a second certificate with the same number (409); when the logged one says exactly what this draft says,
// the command reports it as already issued and succeeds.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { asJsonObject, certificateDraftSchema, completeDraft, parseDocument, type UnsignedCertificate } from '../core/credential.js';
import { RegistryError } from '../core/errors.js';
import { isJsonObject, parseJsonStrict, type JsonObject, type JsonValue } from '../core/json.js';
import { messageOf, parseCommand, processIo, runCommand, type Io } from './args.js';
import {
  checkReceipt,
  issuanceIdempotencyKey,
  openCbSession,
  readCbKeyFile,
  sameContent,
  signAsCb,
  submitSigned,
  type CbSession,
  type Receipt,
} from './cb-session.js';
import { UsageError } from './issuer.js';
import { ProblemError } from './registry-client.js';
import { problemCode, RegistryClient, registryUrlFor } from './registry-client.js';

export const ISSUE_HELP = `certrail issue <cert.json|cert.yaml> --key FILE [options]: sign a certificate locally and log it

  <cert.json>       a certificate draft (JSON or YAML): validFrom, validUntil, credentialSubject { organization, system,
                    models, certificate { number, scope, standards, surveillance, … } }; "@context", "type",
                    "id" and "issuer" may be left out and are filled in (docs/CLI.md has an example)
  --key FILE        the certification body's key (certrail keygen --issuer SLUG --key-id ID writes keys/SLUG.key);
                    its name <slug>.<key-id> says which CB issues and which registered key signs
  --registry URL    the registry (default: $CERTRAIL_URL, else http://$HOST:$PORT)
  --json            print the receipt as JSON
  -h, --help        this help

Writes carry a fresh EdDSA JWT (2 minutes, single use) and Idempotency-Key cert-<number>-<content hash>. Running
the command again for a certificate that is already logged with the same content reports it and exits 0.

Exit codes: 0 issued (or already logged with the same content), 2 usage error, invalid draft, refusal (e.g. the
number is taken by another certificate), unreachable registry or any other error.`;

export type IssuanceOutcome =
  | { outcome: 'issued'; id: string; receipt: Receipt; proven: string }
  | { outcome: 'already-logged'; id: string; index: number };

/**
 * Reads a draft file, JSON or YAML (by extension). YAML is read with the core schema (no dates or other implicit
 * types), duplicate keys refused and aliases disabled, then re-read by the strict JSON parser, so both formats obey
 * the same rules (no integers beyond 2^53, no lone surrogates).
 */
export function readDraftFile(path: string): JsonValue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${messageOf(error)}`);
  }
  const yaml = /\.ya?ml$/i.test(path);
  try {
    if (yaml) text = JSON.stringify(parseYaml(text, { schema: 'core', uniqueKeys: true, maxAliasCount: 0, prettyErrors: true }));
    return parseJsonStrict(text);
  } catch (error) {
    throw new Error(`${path} is not valid ${yaml ? 'YAML' : 'JSON'}: ${messageOf(error)}`);
  }
}

/**
 * A draft completed for this CB and registry, validated by the certificate schema. Throws RegistryError
 * ('bad-request') naming the member at fault.
 */
export function completeForSession(session: CbSession, value: JsonValue): UnsignedCertificate {
  if (isJsonObject(value) && value.proof !== undefined) {
    throw new RegistryError('bad-request', 'proof: the draft is already signed; give the unsigned draft, certrail signs it');
  }
  const draft = parseDocument(certificateDraftSchema, value);
  return completeDraft(draft, {
    baseUrl: session.wellKnown.baseUrl,
    issuerSlug: session.key.issuer,
    issuerName: session.issuerName,
  });
}

/**
 * Signs and logs one certificate. A 409 is looked into: if the certificate logged under this number has the same
 * content, the issuance is done already ('already-logged'); otherwise the refusal stands.
 */
export async function issueCertificate(session: CbSession, unsigned: UnsignedCertificate): Promise<IssuanceOutcome> {
  const document = asJsonObject(unsigned);
  const number = unsigned.credentialSubject.certificate.number;
  const signed = await signAsCb(session, document);
  try {
    const receipt = await submitSigned(session, '/api/v1/certificates', signed, issuanceIdempotencyKey(document, number));
    const proven = await checkReceipt(session, receipt, 'certificate.issued', signed);
    return { outcome: 'issued', id: receipt.id, receipt, proven };
  } catch (error) {
    if (!(error instanceof ProblemError) || problemCode(error) !== 'conflict') throw error;
    const logged = await loggedCertificate(session, number);
    if (logged && sameContent(logged.credential, document)) return { outcome: 'already-logged', id: unsigned.id, index: logged.index };
    throw new Error(`certificate ${number} is already logged with other content${logged ? ` (log entry ${logged.index})` : ''}: ${error.message}`);
  }
}

async function loggedCertificate(session: CbSession, number: string): Promise<{ credential: JsonObject; index: number } | null> {
  try {
    const view = await session.client.getObject(`/api/v1/certificates/${session.key.issuer}/${number}`);
    const issued = view.issued;
    if (!isJsonObject(view.credential) || !isJsonObject(issued) || typeof issued.index !== 'number') return null;
    return { credential: view.credential, index: issued.index };
  } catch (error) {
    if (problemCode(error) === 'not-found') return null;
    throw error;
  }
}

async function issue(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { key: { type: 'string' }, registry: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    ISSUE_HELP,
  );
  if (values.help) {
    io.out(ISSUE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one <cert.json>\n\n${ISSUE_HELP}`);
  if (!values.key) throw new UsageError(`--key FILE is required (the certification body's key)\n\n${ISSUE_HELP}`);
  const value = readDraftFile(positionals[0]!);
  const key = await readCbKeyFile(values.key);
  const session = await openCbSession(new RegistryClient(registryUrlFor(values.registry, io.env, null)), key);
  const unsigned = completeForSession(session, value);
  const result = await issueCertificate(session, unsigned);
  if (values.json) {
    const answer = result.outcome === 'issued'
      ? { outcome: result.outcome, ...result.receipt, verifyUrl: result.receipt.id, proven: result.proven }
      : result;
    io.out(JSON.stringify(answer, null, 2));
    return 0;
  }
  const number = unsigned.credentialSubject.certificate.number;
  if (result.outcome === 'already-logged') {
    io.out(`certificate ${number} of ${key.issuer} is already logged with this content (log entry ${result.index}); nothing to do`);
    io.out(`  verify URL:  ${result.id}`);
    return 0;
  }
  io.out(`issued certificate ${number} of ${key.issuer}, signed with ${session.verificationMethod}`);
  io.out(`  verify URL:  ${result.id}`);
  io.out(`  log entry:   ${result.receipt.index} at ${new Date(result.receipt.loggedAt).toISOString()}`);
  io.out(`  receipt:     ${result.proven}`);
  return 0;
}

/** Runs `certrail issue <args>`; returns the exit code. */
export function issueCommand(args: string[], io: Io = processIo()): Promise<number> {
  return runCommand('issue', args, io, () => issue(args, io));
}
