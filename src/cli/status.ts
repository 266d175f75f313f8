// `certrail status <id | URL>`: what the registry says about a certificate (GET /v/{issuer}/{number} as JSON). This is
// the registry's word, computed on its side; the output says so and points to `certrail verify`, which checks the
// same certificate on this machine from a proof bundle.
import { isJsonObject, type JsonObject } from '../core/json.js';
import { parseCommand, processIo, runCommand, type Io } from './args.js';
import { UsageError } from './issuer.js';
import { parseCertificateRef, problemCode, RegistryClient, registryUrlFor } from './registry-client.js';
import { verdictLines, type ShownVerdict } from './verdict-output.js';

export const STATUS_HELP = `certrail status <verify URL | issuer/number> [--json]: the registry's verdict on a certificate

  Asks the registry (GET /v/{issuer}/{number}, JSON) and shows its answer, clearly labelled as the registry's
  word. To check the certificate yourself, without trusting the registry, run "certrail verify".

  --registry URL   the registry (default: $CERTRAIL_URL, else the one a verify URL names, else http://$HOST:$PORT)
  --json           the registry's JSON verdict as it answered it
  -h, --help       this help

Exit codes: 0 the registry says valid, 1 it says not valid or does not know the certificate, 2 usage error,
unreachable registry or any other error.`;

function shownVerdict(answer: JsonObject): ShownVerdict {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const checks = Array.isArray(answer.checks)
    ? answer.checks.filter(isJsonObject).map((c) => ({ name: String(c.name), ok: c.ok === true, detail: String(c.detail ?? '') }))
    : [];
  return {
    valid: answer.valid === true,
    status: text(answer.status),
    surveillance: text(answer.surveillance),
    surveillanceDue: text(answer.surveillanceDue),
    validFrom: text(answer.validFrom),
    validUntil: text(answer.validUntil),
    checks,
  };
}

async function status(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { registry: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    STATUS_HELP,
  );
  if (values.help) {
    io.out(STATUS_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one <verify URL | issuer/number>\n\n${STATUS_HELP}`);
  const ref = parseCertificateRef(positionals[0]!);
  if (ref === null) throw new UsageError(`${positionals[0]}: not a verify URL <base>/v/<issuer>/<number> or <issuer>/<number>\n\n${STATUS_HELP}`);
  const client = new RegistryClient(registryUrlFor(values.registry, io.env, ref));
  let answer: JsonObject;
  try {
    answer = await client.getObject(`/v/${ref.issuer}/${ref.number}`);
  } catch (error) {
    if (problemCode(error) !== 'not-found') throw error;
    if (values.json) io.out(JSON.stringify({ valid: false, found: false, registry: client.url }, null, 2));
    else io.out(`The registry at ${client.url} does not know certificate ${ref.number} of ${ref.issuer}: NOT VALID.`);
    return 1;
  }
  const id = typeof answer.id === 'string' ? answer.id : `${ref.issuer}/${ref.number}`;
  if (ref.id !== null && id !== ref.id) throw new Error(`${client.url} answered about ${id}, not ${ref.id}`);
  const verdict = shownVerdict(answer);
  if (values.json) {
    io.out(JSON.stringify(answer, null, 2));
    return verdict.valid ? 0 : 1;
  }
  io.out(`The registry's verdict, as ${client.url} reports it (not checked on this machine):`);
  for (const line of verdictLines(verdict, id, [['source', `${client.url} (the registry's word)`]])) io.out(line);
  io.out('');
  io.out(`To check it yourself from a proof bundle: certrail verify ${ref.id ?? `${ref.issuer}/${ref.number}`} --policy FILE`);
  return verdict.valid ? 0 : 1;
}

/** Runs `certrail status <args>`; returns the exit code. */
export function statusCommand(args: string[], io: Io = processIo()): Promise<number> {
  return runCommand('status', args, io, () => status(args, io));
}
