// `certrail issuer …`: the operator's commands against a running registry, over its HTTP API. Writes carry a fresh
// operator token (EdDSA JWT, iss = kid = "registry", aud = the registry's base URL, 2 minutes, single-use jti) signed
// locally with keys/registry.key; the key never leaves this process. Reads are public and need no key.
//
// Output is text for people, or with --json the API's JSON response. Exit codes: 0 success, 2 usage error, an
// unreachable registry or a problem answer (its RFC 9457 detail is printed).
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ISSUER_SLUG, KEY_ID } from '../core/credential.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import { encodeMultikey } from '../core/multibase.js';
import { OPERATOR } from '../http/auth.js';
import { optionsFromEnv, REGISTRY_KEY_NAME } from '../node.js';
import { readKeyFile } from './keyfile.js';
import { ProblemError, RegistryClient, registryUrlFrom } from './registry-client.js';
import { mintToken } from './token.js';

const COMMON_OPTIONS = `Options for every sub-command:
  --registry URL        the running registry (default: $CERTRAIL_URL, else http://$HOST:$PORT = http://127.0.0.1:8787)
  --json                print the API's JSON response instead of text
  -h, --help            this help`;

const KEY_OPTION = `  --registry-key FILE   the operator key that signs the token (default: $CERTRAIL_KEYS/registry.key = keys/registry.key)`;

const HELP = {
  issuer: `certrail issuer <sub-command>: register and manage certification bodies (CBs) on a running registry

  certrail issuer add <slug> --name N [--accreditation-body B [--accreditation-number X]] [--managed] [--key ID=z6Mk…]…
  certrail issuer list
  certrail issuer show <slug>
  certrail issuer key add <slug> <keyId> <z6Mk…>
  certrail issuer key revoke <slug> <keyId> --reason R [--compromised-at ISO]

Writes (add, key add, key revoke) are signed with the operator's registry key. A CB makes its own key with
  certrail keygen --issuer <slug> --key-id <id> --out keys/<slug>.key
which prints the public key (z6Mk…) to pass here. Run "certrail issuer <sub-command> --help" for details.

${COMMON_OPTIONS}
${KEY_OPTION}`,
  add: `certrail issuer add <slug> --name N [options]: register a certification body

  <slug>                      the CB's id in URLs: lowercase letters, digits and inner hyphens (1 to 64)
  --name N                    the CB's legal name, shown on every verify page
  --accreditation-body B      its accreditation body (e.g. DAkkS, UKAS, ANAB)
  --accreditation-number X    its accreditation number (needs --accreditation-body)
  --accreditation-scope S     what the accreditation covers (needs --accreditation-body)
  --managed                   managed signing: the registry creates and holds a key (managed-1) and signs drafts
                              for this CB. An explicit opt-in for small CBs and demos; otherwise give --key.
  --key ID=z6Mk…              a public key of the CB (Ed25519 Multikey), repeatable; at least one without --managed

${COMMON_OPTIONS}
${KEY_OPTION}`,
  list: `certrail issuer list: list the registered certification bodies

${COMMON_OPTIONS}`,
  show: `certrail issuer show <slug>: a certification body's registration and the history of its keys

${COMMON_OPTIONS}`,
  key: `certrail issuer key <add|revoke> …: manage a certification body's keys

  certrail issuer key add <slug> <keyId> <z6Mk…>
  certrail issuer key revoke <slug> <keyId> --reason R [--compromised-at ISO]

${COMMON_OPTIONS}
${KEY_OPTION}`,
  keyAdd: `certrail issuer key add <slug> <keyId> <z6Mk…>: add a public key to a certification body (e.g. a rotation)

  <keyId>                     1 to 64 letters, digits and ._-; the fragment of the key's verification method
  <z6Mk…>                     the Ed25519 public key as Multikey (certrail keygen --issuer prints it)

${COMMON_OPTIONS}
${KEY_OPTION}`,
  keyRevoke: `certrail issuer key revoke <slug> <keyId> --reason R [--compromised-at ISO]: revoke a key

  --reason R                  why (logged publicly)
  --compromised-at ISO        when the key was compromised (RFC 3339, not in the future): everything logged under
                              the key from then on becomes invalid. Without it the key is retired from now on and
                              what it signed before stays valid (a rotation).

${COMMON_OPTIONS}
${KEY_OPTION}`,
};

/** A usage error (exit 2, with the help of the sub-command). */
export class UsageError extends Error {}

interface Io {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}

interface Receipt {
  id: string;
  kind: string;
  index: number;
  loggedAt: number;
}

interface IssuerSummary {
  id: string;
  slug: string;
  name: string;
  managedSigning: boolean;
  registeredAt: string;
}

interface IssuerKey {
  keyId: string;
  publicKeyMultibase: string;
  addedAt: string;
  addedIndex: number;
  revokedAt: string | null;
  compromisedAt: string | null;
  validUntil: string | null;
  status: string;
}

interface IssuerProfile {
  id: string;
  slug: string;
  name: string;
  managedSigning: boolean;
  registration: { index: number; loggedAt: number; document: JsonObject };
  keys: IssuerKey[];
}

const COMMON = {
  registry: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];
const WRITE = { ...COMMON, 'registry-key': { type: 'string' } } as const satisfies ParseArgsConfig['options'];


class Client {
  constructor(
    readonly url: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly keyPath: string | undefined,
  ) {
    this.api = new RegistryClient(url);
  }

  private readonly api: RegistryClient;

  async request(method: string, path: string, body?: JsonObject, token?: string): Promise<JsonValue> {
    return this.api.request(method, path, { ...(body !== undefined ? { body } : {}), ...(token !== undefined ? { token } : {}) });
  }

  /** A fresh operator token for this registry: its audience is the base URL the registry announces. */
  async operatorToken(): Promise<string> {
    const path = this.keyPath ?? join(optionsFromEnv(this.env).keyDir, 'registry.key');
    let key;
    try {
      key = await readKeyFile(path, REGISTRY_KEY_NAME);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot read the registry key ${path}: ${reason} (--registry-key FILE or CERTRAIL_KEYS)`);
    }
    const wellKnown = await this.api.wellKnown();
    if (wellKnown.registryKey !== encodeMultikey(key.publicKey)) {
      throw new Error(`${path} is not the registry key of ${this.url} (it announces ${String(wellKnown.registryKey)})`);
    }
    return mintToken({ issuer: OPERATOR, keyId: OPERATOR, seed: key.seed, publicKey: key.publicKey }, wellKnown.baseUrl);
  }

  async write(method: string, path: string, body: JsonObject): Promise<JsonValue> {
    return this.request(method, path, body, await this.operatorToken());
  }
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, help: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${help}`);
  }
}

function positionals(values: string[], names: string[], help: string): string[] {
  if (values.length !== names.length) {
    throw new UsageError(`expected ${names.map((n) => `<${n}>`).join(' ')}, got ${values.length === 0 ? 'nothing' : values.join(' ')}\n\n${help}`);
  }
  return values;
}

function checkSlug(slug: string, help: string): string {
  if (!ISSUER_SLUG.test(slug)) throw new UsageError(`"${slug}" is not an issuer slug (lowercase letters, digits, inner hyphens)\n\n${help}`);
  return slug;
}

function checkKeyId(keyId: string, help: string): string {
  if (!KEY_ID.test(keyId)) throw new UsageError(`"${keyId}" is not a key id (1 to 64 letters, digits and ._-)\n\n${help}`);
  return keyId;
}

function printReceipts(io: Io, receipts: Receipt[]): void {
  for (const r of receipts) io.out(`  log entry ${r.index}  ${r.kind}  ${new Date(r.loggedAt).toISOString()}`);
}

function printProfile(io: Io, profile: IssuerProfile): void {
  const accreditation = profile.registration.document.accreditation;
  io.out(`${profile.slug}  ${profile.name}`);
  io.out(`  id:             ${profile.id}`);
  io.out(`  signing:        ${profile.managedSigning ? 'managed (the registry holds a key and signs drafts)' : 'own keys (signs locally)'}`);
  if (isJsonObject(accreditation)) {
    const parts = [accreditation.body, accreditation.number].filter((p): p is string => typeof p === 'string');
    io.out(`  accreditation:  ${parts.join(' ')}${typeof accreditation.scope === 'string' ? ` (${accreditation.scope})` : ''}`);
  }
  io.out(`  registered:     ${new Date(profile.registration.loggedAt).toISOString()} (log entry ${profile.registration.index})`);
  io.out(`  keys:`);
  for (const k of profile.keys) {
    const history = [`added ${k.addedAt} (log entry ${k.addedIndex})`];
    if (k.revokedAt) history.push(`revoked ${k.revokedAt}`);
    if (k.compromisedAt) history.push(`compromised since ${k.compromisedAt}`);
    if (k.validUntil) history.push(`invalid from ${k.validUntil}`);
    io.out(`    ${k.keyId.padEnd(12)} ${k.status.padEnd(8)} ${k.publicKeyMultibase}`);
    io.out(`    ${''.padEnd(12)} ${''.padEnd(8)} ${history.join(', ')}`);
  }
}

function client(values: { registry?: string | undefined; 'registry-key'?: string | undefined }, io: Io): Client {
  return new Client(registryUrlFrom(values.registry, io.env), io.env, values['registry-key']);
}

async function add(args: string[], io: Io): Promise<void> {
  const { values, positionals: rest } = parse(
    args,
    {
      ...WRITE,
      name: { type: 'string' },
      'accreditation-body': { type: 'string' },
      'accreditation-number': { type: 'string' },
      'accreditation-scope': { type: 'string' },
      managed: { type: 'boolean' },
      key: { type: 'string', multiple: true },
    },
    HELP.add,
  );
  if (values.help) return io.out(HELP.add);
  const [slug] = positionals(rest, ['slug'], HELP.add);
  checkSlug(slug!, HELP.add);
  if (!values.name) throw new UsageError(`--name is required\n\n${HELP.add}`);
  const keys = (values.key ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--key ${spec}: expected keyId=z6Mk…\n\n${HELP.add}`);
    return { keyId: checkKeyId(spec.slice(0, eq), HELP.add), publicKeyMultibase: spec.slice(eq + 1) };
  });
  if (!values.managed && keys.length === 0) throw new UsageError(`give at least one --key keyId=z6Mk…, or --managed\n\n${HELP.add}`);
  const body: JsonObject = { slug: slug!, name: values.name, managedSigning: values.managed === true, keys };
  if (values['accreditation-body']) {
    body.accreditation = {
      body: values['accreditation-body'],
      ...(values['accreditation-number'] ? { number: values['accreditation-number'] } : {}),
      ...(values['accreditation-scope'] ? { scope: values['accreditation-scope'] } : {}),
    };
  } else if (values['accreditation-number'] || values['accreditation-scope']) {
    throw new UsageError(`--accreditation-number and --accreditation-scope need --accreditation-body\n\n${HELP.add}`);
  }
  const registry = client(values, io);
  const answer = await registry.write('POST', '/api/v1/issuers', body);
  if (values.json) return io.out(JSON.stringify(answer, null, 2));
  const receipts = (isJsonObject(answer) && Array.isArray(answer.receipts) ? answer.receipts : []) as unknown as Receipt[];
  io.out(`registered ${slug} in ${registry.url}`);
  printReceipts(io, receipts);
  printProfile(io, (await registry.request('GET', `/api/v1/issuers/${slug}`)) as unknown as IssuerProfile);
}

async function list(args: string[], io: Io): Promise<void> {
  const { values, positionals: rest } = parse(args, COMMON, HELP.list);
  if (values.help) return io.out(HELP.list);
  positionals(rest, [], HELP.list);
  const answer = await client(values, io).request('GET', '/api/v1/issuers');
  if (values.json) return io.out(JSON.stringify(answer, null, 2));
  const issuers = (isJsonObject(answer) && Array.isArray(answer.issuers) ? answer.issuers : []) as unknown as IssuerSummary[];
  if (issuers.length === 0) return io.out('no certification body is registered');
  const width = Math.max(4, ...issuers.map((i) => i.slug.length));
  io.out(`${'SLUG'.padEnd(width)}  ${'SIGNING'.padEnd(8)}  ${'REGISTERED'.padEnd(24)}  NAME`);
  for (const i of issuers) {
    io.out(`${i.slug.padEnd(width)}  ${(i.managedSigning ? 'managed' : 'own').padEnd(8)}  ${i.registeredAt.padEnd(24)}  ${i.name}`);
  }
}

async function show(args: string[], io: Io): Promise<void> {
  const { values, positionals: rest } = parse(args, COMMON, HELP.show);
  if (values.help) return io.out(HELP.show);
  const [slug] = positionals(rest, ['slug'], HELP.show);
  const answer = await client(values, io).request('GET', `/api/v1/issuers/${checkSlug(slug!, HELP.show)}`);
  if (values.json) return io.out(JSON.stringify(answer, null, 2));
  printProfile(io, answer as unknown as IssuerProfile);
}

async function keyAdd(args: string[], io: Io): Promise<void> {
  const { values, positionals: rest } = parse(args, WRITE, HELP.keyAdd);
  if (values.help) return io.out(HELP.keyAdd);
  const [slug, keyId, publicKeyMultibase] = positionals(rest, ['slug', 'keyId', 'z6Mk…'], HELP.keyAdd);
  checkSlug(slug!, HELP.keyAdd);
  checkKeyId(keyId!, HELP.keyAdd);
  const answer = await client(values, io).write('POST', `/api/v1/issuers/${slug}/keys`, { keyId: keyId!, publicKeyMultibase: publicKeyMultibase! });
  if (values.json) return io.out(JSON.stringify(answer, null, 2));
  io.out(`added key ${keyId} to ${slug}: ${publicKeyMultibase}`);
  printReceipts(io, [answer as unknown as Receipt]);
}

async function keyRevoke(args: string[], io: Io): Promise<void> {
  const { values, positionals: rest } = parse(
    args,
    { ...WRITE, reason: { type: 'string' }, 'compromised-at': { type: 'string' } },
    HELP.keyRevoke,
  );
  if (values.help) return io.out(HELP.keyRevoke);
  const [slug, keyId] = positionals(rest, ['slug', 'keyId'], HELP.keyRevoke);
  checkSlug(slug!, HELP.keyRevoke);
  checkKeyId(keyId!, HELP.keyRevoke);
  if (!values.reason) throw new UsageError(`--reason is required\n\n${HELP.keyRevoke}`);
  const body: JsonObject = { reason: values.reason };
  if (values['compromised-at'] !== undefined) body.compromisedAt = values['compromised-at'];
  const answer = await client(values, io).write('POST', `/api/v1/issuers/${slug}/keys/${keyId}/revoke`, body);
  if (values.json) return io.out(JSON.stringify(answer, null, 2));
  io.out(
    values['compromised-at']
      ? `revoked key ${keyId} of ${slug}; everything logged under it since ${values['compromised-at']} is invalid`
      : `revoked key ${keyId} of ${slug}; what it signed before stays valid`,
  );
  printReceipts(io, [answer as unknown as Receipt]);
}

/** Runs `certrail issuer <args>`; returns the exit code. */
export async function issuerCommand(
  args: string[],
  io: Io = { env: process.env, out: (line) => console.log(line), err: (line) => console.error(line) },
): Promise<number> {
  const [sub, ...rest] = args;
  const json = rest.includes('--json');
  try {
    switch (sub) {
      case 'add':
        await add(rest, io);
        break;
      case 'list':
        await list(rest, io);
        break;
      case 'show':
        await show(rest, io);
        break;
      case 'key': {
        const [action, ...keyArgs] = rest;
        if (action === 'add') await keyAdd(keyArgs, io);
        else if (action === 'revoke') await keyRevoke(keyArgs, io);
        else if (action === '--help' || action === '-h' || action === 'help') io.out(HELP.key);
        else throw new UsageError(`${action === undefined ? 'missing' : `unknown`} key sub-command${action ? ` ${action}` : ''}\n\n${HELP.key}`);
        break;
      }
      case '--help':
      case '-h':
      case 'help':
        io.out(HELP.issuer);
        break;
      default:
        throw new UsageError(`${sub === undefined ? 'missing' : 'unknown'} issuer sub-command${sub ? ` ${sub}` : ''}\n\n${HELP.issuer}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ProblemError && json) io.out(JSON.stringify(error.problem, null, 2));
    io.err(`certrail issuer: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}
