// `certrail event <certificate> <action> --key FILE …`: a certification body records a status event (suspension,
// reinstatement, revocation, surveillance audit, recertification, scope change). The event names the certificate's
// current chain head (its latest log entry: the last event, or the issuance) as `previous`, is signed here with the
// CB's key and posted with a fresh JWT; the receipt is checked against the log key.
//
// Concurrency: if another event is logged between reading the head and posting, the registry refuses this one (409,
// the chain would fork); run the command again to chain onto the new head.
import { join } from 'node:path';
import {
  asJsonObject,
  parseDocument,
  statusEventDraftSchema,
  type StatusEventKind,
} from '../core/credential.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
import { dateTimeOption, parseCommand, processIo, runCommand, type Io } from './args.js';
import { checkReceipt, contentHash, openCbSession, readCbKeyFile, signAsCb, submitSigned } from './cb-session.js';
import { optionsFromEnv } from '../node.js';
import { UsageError } from './issuer.js';
import { parseCertificateRef, RegistryClient, registryUrlFor } from './registry-client.js';

export const EVENT_HELP = `certrail event <verify URL | issuer/number> <action> --key FILE [options]: record a status event

  actions and what they need:
    suspend     --reason R                              suspended (e.g. a missed surveillance audit)
    reinstate   [--reason R]                            reinstated (ends a suspension)
    revoke      --reason R                              revoked (final: nothing may follow)
    audit       --outcome passed|passed-with-findings|failed --next-due ISO [--audit-date ISO] [--auditor NAME]
                                                        surveillance-audit (a passed audit moves the due date)
    recertify   --valid-until ISO [--reason R]          recertified (new end of validity)
    scope       --scope S [--reason R]                  scope-changed

  --key FILE        the certification body's key (default $CERTRAIL_KEYS/<slug>.key = keys/<slug>.key, for the
                    certificate's issuer); it must be an active key of the certificate's issuer
  --effective ISO   when the event takes effect as the CB states it (default: now). Shown, but status changes
                    from the time the log sequences the event, never earlier or later
  --registry URL    the registry (default: $CERTRAIL_URL, else the one a verify URL names, else http://$HOST:$PORT)
  --json            print the receipt as JSON
  -h, --help        this help

Exit codes: 0 recorded, 2 usage error, refusal (e.g. reinstating a certificate that is not suspended, or a
concurrent event: run again), unreachable registry or any other error.`;

const ACTIONS: Readonly<Record<string, StatusEventKind>> = {
  suspend: 'suspended',
  reinstate: 'reinstated',
  revoke: 'revoked',
  audit: 'surveillance-audit',
  recertify: 'recertified',
  scope: 'scope-changed',
};

const KIND_OPTIONS = ['reason', 'outcome', 'next-due', 'audit-date', 'auditor', 'valid-until', 'scope'] as const;
type KindOption = (typeof KIND_OPTIONS)[number];

/** Options each kind takes (besides --key, --effective, --registry, --json). */
const ALLOWED: Readonly<Record<StatusEventKind, readonly KindOption[]>> = {
  suspended: ['reason'],
  reinstated: ['reason'],
  revoked: ['reason'],
  'surveillance-audit': ['reason', 'outcome', 'next-due', 'audit-date', 'auditor'],
  recertified: ['reason', 'valid-until'],
  'scope-changed': ['reason', 'scope'],
};
const REQUIRED: Readonly<Record<StatusEventKind, readonly KindOption[]>> = {
  suspended: ['reason'],
  reinstated: [],
  revoked: ['reason'],
  'surveillance-audit': ['outcome', 'next-due'],
  recertified: ['valid-until'],
  'scope-changed': ['scope'],
};
/** The certificate's latest log entry, which the next event must name as `previous`. */
async function chainHead(client: RegistryClient, issuer: string, number: string): Promise<{ index: number; leafHash: string }> {
  const view = await client.getObject(`/api/v1/certificates/${issuer}/${number}`);
  const events = Array.isArray(view.events) ? view.events.filter(isJsonObject) : [];
  const head = events.length > 0 ? events[events.length - 1]! : view.issued;
  if (!isJsonObject(head) || typeof head.index !== 'number' || typeof head.leafHash !== 'string') {
    throw new Error(`${client.url} answered a malformed certificate view (no chain head)`);
  }
  return { index: head.index, leafHash: head.leafHash };
}

async function event(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      key: { type: 'string' },
      reason: { type: 'string' },
      outcome: { type: 'string' },
      'next-due': { type: 'string' },
      'audit-date': { type: 'string' },
      auditor: { type: 'string' },
      'valid-until': { type: 'string' },
      scope: { type: 'string' },
      effective: { type: 'string' },
      registry: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    EVENT_HELP,
  );
  if (values.help) {
    io.out(EVENT_HELP);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(`expected <verify URL | issuer/number> <action>\n\n${EVENT_HELP}`);
  const [target, action] = positionals as [string, string];
  const ref = parseCertificateRef(target);
  if (ref === null) throw new UsageError(`${target}: not a verify URL <base>/v/<issuer>/<number> or <issuer>/<number>\n\n${EVENT_HELP}`);
  const kind = ACTIONS[action];
  if (kind === undefined) throw new UsageError(`unknown action ${action} (${Object.keys(ACTIONS).join(', ')})\n\n${EVENT_HELP}`);
  for (const option of KIND_OPTIONS) {
    if (values[option] !== undefined && !ALLOWED[kind].includes(option)) throw new UsageError(`--${option} does not apply to ${action}\n\n${EVENT_HELP}`);
  }
  for (const option of REQUIRED[kind]) {
    if (values[option] === undefined) throw new UsageError(`${action} needs --${option}\n\n${EVENT_HELP}`);
  }
  const effective = values.effective === undefined ? new Date().toISOString() : dateTimeOption(values.effective, '--effective', EVENT_HELP);

  const keyPath = values.key ?? join(optionsFromEnv(io.env).keyDir, `${ref.issuer}.key`);
  const key = await readCbKeyFile(keyPath);
  if (key.issuer !== ref.issuer) throw new Error(`${keyPath} is a key of ${key.issuer}; certificate ${ref.number} belongs to ${ref.issuer}`);
  const client = new RegistryClient(registryUrlFor(values.registry, io.env, ref));
  const session = await openCbSession(client, key);
  const certificate = await client.certificateId(ref);
  const previous = await chainHead(client, ref.issuer, ref.number);

  const draft: JsonObject = { type: 'CertificateStatusEvent', certificate, kind, effective, previous };
  if (values.reason !== undefined) draft.reason = values.reason;
  if (kind === 'surveillance-audit') {
    const audit: JsonObject = { outcome: values.outcome!, nextDueBy: dateTimeOption(values['next-due']!, '--next-due', EVENT_HELP) };
    if (values['audit-date'] !== undefined) audit.date = dateTimeOption(values['audit-date'], '--audit-date', EVENT_HELP);
    if (values.auditor !== undefined) audit.auditor = values.auditor;
    draft.audit = audit;
  }
  if (kind === 'recertified') draft.validUntil = dateTimeOption(values['valid-until']!, '--valid-until', EVENT_HELP);
  if (kind === 'scope-changed') draft.scope = values.scope!;
  const unsigned = asJsonObject(parseDocument(statusEventDraftSchema, draft));

  const signed = await signAsCb(session, unsigned);
  const idempotencyKey = `ev-${ref.number}-${previous.index}-${contentHash(unsigned).slice(0, 32)}`;
  const receipt = await submitSigned(session, `/api/v1/certificates/${ref.issuer}/${ref.number}/events`, signed, idempotencyKey);
  const proven = await checkReceipt(session, receipt, 'certificate.event', signed);
  const now = await client.getObject(`/v/${ref.issuer}/${ref.number}`);
  if (values.json) {
    io.out(JSON.stringify({ ...receipt, proven, status: now.status ?? null, valid: now.valid ?? null }, null, 2));
    return 0;
  }
  io.out(`recorded ${kind} for ${certificate}, signed with ${session.verificationMethod}`);
  io.out(`  follows:     log entry ${previous.index}`);
  io.out(`  log entry:   ${receipt.index} at ${new Date(receipt.loggedAt).toISOString()}`);
  io.out(`  receipt:     ${proven}`);
  io.out(`  status now:  ${String(now.status)}${now.valid === true ? ' (valid)' : ' (not valid)'}, as the registry reports it`);
  return 0;
}

/** Runs `certrail event <args>`; returns the exit code. */
export function eventCommand(args: string[], io: Io = processIo()): Promise<number> {
  return runCommand('event', args, io, () => event(args, io));
}
