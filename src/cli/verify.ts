// `certrail verify <bundle.json | verify URL | issuer/number>`: the relying party's own check of a certificate.
// A bundle file is verified offline; for a URL or id the bundle is fetched from the registry and still verified
// entirely on this machine (src/core/bundle.ts verifyBundle): checkpoint signature and witnesses, inclusion of every
// entry, the issuer's logged keys, signatures, the event chain, status, validity and surveillance.
//
// Trust: only the policy is trusted (log key, optionally registry key, witnesses and quorum). With --policy it comes
// from a file the user keeps; without it, for a URL, it is taken from the registry's /.well-known/certrail, which is
// trust on first use and is said so in the output. A bundle about another certificate than the one asked for is
// NOT VALID, whatever its own checks say.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { BUNDLE_MEDIA_TYPE, parseBundle, verifyBundle, type Bundle } from '../core/bundle.js';
import { splitCertificateId, toMillis } from '../core/credential.js';
import { parseJsonStrict } from '../core/json.js';
import { parseNote } from '../core/note.js';
import { dateTimeOption, messageOf, parseCommand, processIo, runCommand, type Io } from './args.js';
import { UsageError } from './issuer.js';
import { ProblemError } from './registry-client.js';
import { formatPolicyJson, readTrustPolicyFile, trustPolicyFor, type PolicyFile } from './policy.js';
import { parseCertificateRef, RegistryClient, registryUrlFor, type CertificateRef } from './registry-client.js';
import { verdictLines, type ShownVerdict } from './verdict-output.js';
import { installNativeCrypto } from '../native-crypto.js';

// Node's native SHA-256 and Ed25519 verification under the SDK code this command runs.
installNativeCrypto();

export const VERIFY_HELP = `certrail verify <bundle.json | verify URL | issuer/number> [options]: check a certificate yourself

  bundle.json            an offline bundle (GET /api/v1/certificates/{issuer}/{number}/bundle); verified with
                         no network at all; needs --policy
  verify URL             the certificate id, e.g. https://certrail.example.org/v/acme-cert/AI-2025-0001: the bundle
                         is fetched from the registry and verified on this machine
  issuer/number          the same, e.g. acme-cert/AI-2025-0001

  --policy FILE          the trust policy: JSON { log, registryKey?, witnesses?, quorum? } or C2SP tlog-policy text
                         (log <vkey> / witness <name> <vkey> / group <name> <k> <names…> / quorum <name>|none).
                         Without it, a URL or id is checked against the policy the registry itself announces at
                         /.well-known/certrail: trust on first use, which the output says
  --save-policy FILE     write the policy used (JSON) to FILE, e.g. to pin the registry's keys on first use
  --at ISO               judge status at this time (RFC 3339) instead of now; events logged later are ignored
  --registry URL         where to fetch the bundle (default: $CERTRAIL_URL, else the registry a verify URL names,
                         else http://$HOST:$PORT); a bundle about another certificate is NOT VALID
  --json                 the verdict as JSON
  -h, --help             this help

Exit codes: 0 valid, 1 not valid (including a certificate the registry does not know), 2 usage error, unreadable
bundle or policy, unreachable registry or any other error.`;

/** The largest bundle file read (a bundle holds at most 10,000 entries of at most 64 KiB; real ones are small). */
const MAX_BUNDLE_FILE = 64 * 1024 * 1024;

interface Source {
  kind: 'file' | 'registry';
  /** The file path or the registry URL. */
  location: string;
}

interface PolicySource {
  kind: 'file' | 'registry';
  /** The policy file, or the registry whose well-known data was taken on first use. */
  location: string;
  trustOnFirstUse: boolean;
}

type Check = ShownVerdict['checks'][number];

/** The verify command's JSON result: the verdict plus where the bundle and the policy came from. */
interface VerifyResult extends ShownVerdict {
  certificate: string;
  checkpoint: { origin: string; size: number } | null;
  at: string;
  source: Source;
  policy: PolicySource | null;
}

function readBundleFile(path: string): Bundle {
  if (statSync(path).size > MAX_BUNDLE_FILE) throw new Error(`${path} is larger than ${MAX_BUNDLE_FILE} bytes; not a bundle`);
  try {
    return parseBundle(parseJsonStrict(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new Error(`${path} is not a Certrail bundle (${BUNDLE_MEDIA_TYPE}): ${messageOf(error)}`);
  }
}

function originOf(checkpoint: string): string | null {
  try {
    return parseNote(checkpoint).text.split('\n', 1)[0] ?? null;
  } catch {
    return null;
  }
}

/** Whether the bundle is about the certificate asked for (issuer, number and, for a URL, the base URL). */
function requestCheck(bundle: Bundle, ref: CertificateRef): Check | null {
  const parts = splitCertificateId(bundle.certificate);
  const same = parts !== null && parts.issuer === ref.issuer && parts.number === ref.number
    && (ref.baseUrl === null || parts.baseUrl === ref.baseUrl);
  if (same) return null;
  const asked = ref.id ?? `${ref.issuer}/${ref.number}`;
  return { name: 'certificate', ok: false, detail: `the registry answered a bundle about ${bundle.certificate}, not ${asked}` };
}

function notFound(certificate: string, at: number, source: Source, detail: string): VerifyResult {
  return {
    valid: false,
    status: null,
    surveillance: null,
    surveillanceDue: null,
    validFrom: null,
    validUntil: null,
    checks: [{ name: 'found', ok: false, detail }],
    certificate,
    checkpoint: null,
    at: new Date(at).toISOString(),
    source,
    policy: null,
  };
}

function describePolicy(policy: PolicyFile, source: PolicySource): string[] {
  const parts = [
    `${policy.logs.length} log key(s)`,
    policy.registryKey ? 'registry key pinned' : 'registry key not pinned',
    `${policy.witnesses.length} witness(es), quorum ${policy.quorum}`,
  ].join(', ');
  if (!source.trustOnFirstUse) return [`${source.location} (${parts})`];
  return [
    `fetched from the registry itself, ${source.location}/.well-known/certrail (${parts})`,
    'TRUST ON FIRST USE: a registry that lies could also hand out its own keys. Pin them once with',
    '--save-policy FILE (or get the keys from a source you trust) and verify with --policy FILE.',
  ];
}

function print(io: Io, result: VerifyResult, policy: PolicyFile | null): void {
  const where = result.source.kind === 'file'
    ? `bundle file ${result.source.location} (verified offline)`
    : `bundle fetched from ${result.source.location}, verified on this machine`;
  const facts: Array<[string, string]> = [
    ['checked at', `${result.at}${result.checkpoint ? ` against the checkpoint of ${result.checkpoint.origin} at size ${result.checkpoint.size}` : ''}`],
    ['source', where],
  ];
  if (policy && result.policy) {
    const [first, ...more] = describePolicy(policy, result.policy);
    facts.push(['trust policy', first!]);
    for (const line of more) facts.push(['', line]);
  }
  for (const line of verdictLines(result, result.certificate, facts)) io.out(line);
}

async function verify(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      policy: { type: 'string' },
      'save-policy': { type: 'string' },
      at: { type: 'string' },
      registry: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    VERIFY_HELP,
  );
  if (values.help) {
    io.out(VERIFY_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one <bundle.json | verify URL | issuer/number>\n\n${VERIFY_HELP}`);
  const input = positionals[0]!;
  const at = values.at === undefined ? Date.now() : toMillis(dateTimeOption(values.at, '--at', VERIFY_HELP));
  const policyFromFile = values.policy === undefined ? null : readTrustPolicyFile(values.policy);
  if (values['save-policy'] !== undefined && existsSync(values['save-policy'])) {
    throw new UsageError(`--save-policy ${values['save-policy']}: the file exists; a saved policy is never overwritten\n\n${VERIFY_HELP}`);
  }

  let bundle: Bundle;
  let source: Source;
  let ref: CertificateRef | null = null;
  let policy: PolicyFile | null = policyFromFile;
  let policySource: PolicySource | null = policyFromFile ? { kind: 'file', location: values.policy!, trustOnFirstUse: false } : null;
  if (existsSync(input) && statSync(input).isFile()) {
    if (policyFromFile === null) {
      throw new UsageError(
        `verifying a bundle file offline needs --policy FILE (the log's verifier key, and the registry key, witnesses and quorum you trust)\n\n${VERIFY_HELP}`,
      );
    }
    bundle = readBundleFile(input);
    source = { kind: 'file', location: input };
  } else {
    ref = parseCertificateRef(input);
    if (ref === null) throw new UsageError(`${input}: no such file, and not a verify URL <base>/v/<issuer>/<number> or <issuer>/<number>\n\n${VERIFY_HELP}`);
    const client = new RegistryClient(registryUrlFor(values.registry, io.env, ref));
    source = { kind: 'registry', location: client.url };
    const asked = ref.id ?? `${ref.issuer}/${ref.number}`;
    const answer = await client.fetchText('GET', `/api/v1/certificates/${ref.issuer}/${ref.number}/bundle`, {
      accept: `${BUNDLE_MEDIA_TYPE}, application/problem+json`,
    });
    if (answer.status === 404) {
      const elsewhere = ref.baseUrl !== null && ref.baseUrl !== client.url ? ` (the id names ${ref.baseUrl}; --registry or CERTRAIL_URL chose ${client.url})` : '';
      return output(io, notFound(asked, at, source, `${client.url} has no certificate ${ref.number} of ${ref.issuer}${elsewhere}`), null, values);
    }
    if (answer.status !== 200) {
      let problem;
      try {
        problem = parseJsonStrict(answer.text);
      } catch {
        problem = answer.text.slice(0, 200);
      }
      throw new ProblemError(answer.status, problem);
    }
    try {
      bundle = parseBundle(parseJsonStrict(answer.text));
    } catch (error) {
      throw new Error(`${client.url} answered something that is not a bundle: ${messageOf(error)}`);
    }
    if (policy === null) {
      const w = await client.wellKnown();
      policy = { logs: [w.logVerifierKey], registryKey: w.registryKey, witnesses: w.witnesses, quorum: w.quorum };
      policySource = { kind: 'registry', location: client.url, trustOnFirstUse: true };
    }
  }
  if (policy === null || policySource === null) throw new Error('no trust policy'); // unreachable: a file needs --policy

  const verdict = await verifyBundle(bundle, trustPolicyFor(policy, originOf(bundle.checkpoint)), { now: at });
  const mismatch = ref === null ? null : requestCheck(bundle, ref);
  const result: VerifyResult = {
    valid: verdict.valid && mismatch === null,
    status: verdict.status,
    surveillance: verdict.surveillance,
    surveillanceDue: verdict.surveillanceDue,
    validFrom: verdict.validFrom,
    validUntil: verdict.validUntil,
    checks: mismatch ? [mismatch, ...verdict.checks] : verdict.checks,
    certificate: bundle.certificate,
    checkpoint: verdict.checkpoint,
    at: new Date(at).toISOString(),
    source,
    policy: policySource,
  };
  if (values['save-policy'] !== undefined) {
    writeFileSync(values['save-policy'], formatPolicyJson(policy), { flag: 'wx' });
  }
  return output(io, result, policy, values);
}

function output(io: Io, result: VerifyResult, policy: PolicyFile | null, values: { json?: boolean | undefined; 'save-policy'?: string | undefined }): number {
  if (values.json) {
    io.out(JSON.stringify(result, null, 2));
    if (result.policy?.trustOnFirstUse) {
      io.err('certrail verify: note: the trust policy was fetched from the registry itself (trust on first use); pin it with --policy FILE');
    }
  } else {
    print(io, result, policy);
    if (values['save-policy'] !== undefined && policy) io.out(`\nwrote the trust policy to ${values['save-policy']}; next time: --policy ${values['save-policy']}`);
  }
  return result.valid ? 0 : 1;
}

/** Runs `certrail verify <args>`; returns the exit code (0 valid, 1 not valid, 2 error). */
export function verifyCommand(args: string[], io: Io = processIo()): Promise<number> {
  return runCommand('verify', args, io, () => verify(args, io));
}
