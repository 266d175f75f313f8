// Trust policy files for `certrail verify --policy FILE`: what a relying party trusts, decided once and kept, instead
// of taking it from the registry being checked. Two formats, told apart by the first non-blank character:
//
// JSON (`{`), Certrail's own, the TrustPolicy of src/core/bundle.ts:
//   { "log": "<vkey>" | ["<vkey>", …], "registryKey": "z6Mk…", "witnesses": ["<vkey>", …], "quorum": k }
//   `registryKey` (optional) pins the key that signs issuer registrations and key entries; `quorum` (default 0) is how
//   many of the witnesses must cosign. Unknown members are refused (a misspelt "witness" must not drop a requirement).
//
// C2SP tlog-policy text (https://c2sp.org/tlog-policy), the subset an offline checkpoint check needs:
//   log <vkey> [<url>]
//   witness <name> <vkey> [<url>]
//   group <name> all|any|<k> <witness name>…
//   quorum none | <witness name> | <group name>
//   Blank lines and `#` comments are ignored; items are separated by spaces and tabs; a group or quorum names only
//   what earlier lines defined; exactly one quorum line; no duplicate log or witness keys; `none` is predefined.
//   Not supported: groups whose members are groups (the verifier counts cosigning witnesses of one set), which are
//   refused rather than approximated. The spec has no registry key (entry keys are out of its scope): use JSON to
//   pin one.
//
// Invariant: a parsed policy's log keys are Ed25519 note keys (type 0x01), its witness keys cosignature/v1 keys
// (type 0x04), and 0 ≤ quorum ≤ number of witnesses; anything else is refused with the line or member at fault.
import { readFileSync } from 'node:fs';
import { toHex } from '../core/bytes.js';
import type { TrustPolicy } from '../core/bundle.js';
import { isJsonObject, parseJsonStrict, type JsonValue } from '../core/json.js';
import { decodeMultikey } from '../core/multibase.js';
import { parseVerifierKey, SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519 } from '../core/note.js';
import { messageOf } from './args.js';

export interface PolicyFile {
  /** Log verifier keys; a checkpoint signed by any one of them is accepted (the one named after its origin is used). */
  logs: string[];
  /** The registry key (Multikey) that must sign issuer entries; absent: issuer entries are trusted as logged. */
  registryKey?: string | undefined;
  /** Witness verifier keys (cosignature/v1) whose cosignatures count. */
  witnesses: string[];
  /** How many of `witnesses` must cosign. */
  quorum: number;
}

export class PolicyError extends Error {}

const MAX_ITEMS = 256;

function vkeyOfType(vkey: string, type: number, what: string): { name: string; publicKey: string } {
  let parsed;
  try {
    parsed = parseVerifierKey(vkey);
  } catch (error) {
    throw new PolicyError(`${what}: not a verifier key (${messageOf(error)})`);
  }
  if (parsed.type !== type) {
    const expected = type === SIG_TYPE_ED25519 ? 'an Ed25519 log key (type 0x01)' : 'a cosignature/v1 witness key (type 0x04)';
    throw new PolicyError(`${what}: ${parsed.name} is not ${expected}`);
  }
  return { name: parsed.name, publicKey: toHex(parsed.publicKey) };
}

/** Refuses two keys wrapping the same public key (tlog-policy: duplicates are not allowed). */
function checkDistinct(vkeys: string[], type: number, what: string): void {
  const seen = new Set<string>();
  vkeys.forEach((vkey, i) => {
    const { publicKey } = vkeyOfType(vkey, type, `${what}[${i}]`);
    if (seen.has(publicKey)) throw new PolicyError(`${what}[${i}]: the same key is listed twice`);
    seen.add(publicKey);
  });
}

function stringList(value: JsonValue | undefined, what: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v): v is string => typeof v === 'string')) {
    throw new PolicyError(`${what}: must be a verifier key or a list of them`);
  }
  if (list.length > MAX_ITEMS) throw new PolicyError(`${what}: at most ${MAX_ITEMS}`);
  return list;
}

/** The JSON form (see the top of this file). */
export function parsePolicyJson(text: string): PolicyFile {
  let value: JsonValue;
  try {
    value = parseJsonStrict(text);
  } catch (error) {
    throw new PolicyError(`not valid JSON: ${messageOf(error)}`);
  }
  if (!isJsonObject(value)) throw new PolicyError('must be a JSON object { log, registryKey?, witnesses?, quorum? }');
  for (const member of Object.keys(value)) {
    if (!['log', 'registryKey', 'witnesses', 'quorum'].includes(member)) {
      throw new PolicyError(`${member}: unknown member (allowed: log, registryKey, witnesses, quorum)`);
    }
  }
  const logs = stringList(value.log, 'log');
  if (logs.length === 0) throw new PolicyError('log: the log verifier key is required');
  checkDistinct(logs, SIG_TYPE_ED25519, 'log');
  const witnesses = stringList(value.witnesses, 'witnesses');
  checkDistinct(witnesses, SIG_TYPE_COSIGNATURE_V1, 'witnesses');
  const quorum = value.quorum ?? 0;
  if (typeof quorum !== 'number' || !Number.isInteger(quorum) || quorum < 0 || quorum > witnesses.length) {
    throw new PolicyError(`quorum: must be an integer from 0 to the number of witnesses (${witnesses.length})`);
  }
  let registryKey: string | undefined;
  if (value.registryKey !== undefined) {
    if (typeof value.registryKey !== 'string') throw new PolicyError('registryKey: must be a Multikey string (z6Mk…)');
    try {
      decodeMultikey(value.registryKey);
    } catch {
      throw new PolicyError('registryKey: not an Ed25519 Multikey (z6Mk…)');
    }
    registryKey = value.registryKey;
  }
  return { logs, registryKey, witnesses, quorum };
}

type Quorumable = { kind: 'witness'; vkey: string } | { kind: 'group'; k: number; members: string[] };

/** The C2SP tlog-policy text form (see the top of this file). */
export function parseTlogPolicy(text: string): PolicyFile {
  const logs: string[] = [];
  const names = new Map<string, Quorumable>();
  const witnessOrder: string[] = [];
  const witnessKeys = new Set<string>();
  let quorum: { name: string; line: number } | null = null;

  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const at = `line ${i + 1}`;
    // Allowed octets: tab, newline, 0x20-0x7E and anything non-ASCII (tlog-policy "Character set").
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(raw)) {
      throw new PolicyError(`${at}: control character (only tab and newline are allowed${raw.includes('\r') ? '; save the file with LF line ends' : ''})`);
    }
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [keyword, ...items] = line.split(/[ \t]+/);
    const defineName = (name: string | undefined): string => {
      if (name === undefined) throw new PolicyError(`${at}: ${keyword} needs a name`);
      if (name === 'none') throw new PolicyError(`${at}: "none" is predefined and cannot be defined`);
      if (names.has(name)) throw new PolicyError(`${at}: ${name} is already defined`);
      if (names.size >= MAX_ITEMS) throw new PolicyError(`${at}: at most ${MAX_ITEMS} witnesses and groups`);
      return name;
    };
    switch (keyword) {
      case 'log': {
        if (items.length < 1 || items.length > 2) throw new PolicyError(`${at}: expected log <vkey> [<url>]`);
        const vkey = items[0]!;
        const { publicKey } = vkeyOfType(vkey, SIG_TYPE_ED25519, at);
        if (logs.some((l) => vkeyOfType(l, SIG_TYPE_ED25519, at).publicKey === publicKey)) throw new PolicyError(`${at}: duplicate log key`);
        if (logs.length >= MAX_ITEMS) throw new PolicyError(`${at}: at most ${MAX_ITEMS} logs`);
        logs.push(vkey);
        return;
      }
      case 'witness': {
        if (items.length < 2 || items.length > 3) throw new PolicyError(`${at}: expected witness <name> <vkey> [<url>]`);
        const name = defineName(items[0]);
        const vkey = items[1]!;
        const { publicKey } = vkeyOfType(vkey, SIG_TYPE_COSIGNATURE_V1, at);
        if (witnessKeys.has(publicKey)) throw new PolicyError(`${at}: duplicate witness key`);
        witnessKeys.add(publicKey);
        names.set(name, { kind: 'witness', vkey });
        witnessOrder.push(vkey);
        return;
      }
      case 'group': {
        const name = defineName(items[0]);
        const threshold = items[1];
        const members = items.slice(2);
        if (threshold === undefined || members.length === 0) throw new PolicyError(`${at}: expected group <name> all|any|<k> <name>…`);
        const seen = new Set<string>();
        const vkeys = members.map((member) => {
          if (seen.has(member)) throw new PolicyError(`${at}: ${member} is listed twice`);
          seen.add(member);
          const defined = names.get(member);
          if (defined === undefined) throw new PolicyError(`${at}: ${member} is not a witness defined on an earlier line`);
          if (defined.kind === 'group') {
            throw new PolicyError(`${at}: ${member} is a group; groups of groups are not supported (list the witnesses in one group)`);
          }
          return defined.vkey;
        });
        let k: number;
        if (threshold === 'all') k = vkeys.length;
        else if (threshold === 'any') k = 1;
        else if (/^[1-9][0-9]{0,3}$/.test(threshold) && Number(threshold) <= vkeys.length) k = Number(threshold);
        else throw new PolicyError(`${at}: the threshold must be all, any or a decimal k with 1 ≤ k ≤ ${vkeys.length}`);
        names.set(name, { kind: 'group', k, members: vkeys });
        return;
      }
      case 'quorum': {
        if (items.length !== 1) throw new PolicyError(`${at}: expected quorum <name>`);
        if (quorum !== null) throw new PolicyError(`${at}: a second quorum line (the first is line ${quorum.line})`);
        const name = items[0]!;
        if (name !== 'none' && !names.has(name)) {
          const hint = /^[0-9]+$/.test(name)
            ? ` (a quorum names a witness or group; for k of n witnesses write "group w ${name} W1 W2 …" then "quorum w")`
            : '';
          throw new PolicyError(`${at}: ${name} is not a witness or group defined on an earlier line${hint}`);
        }
        quorum = { name, line: i + 1 };
        return;
      }
      default:
        throw new PolicyError(`${at}: unknown keyword ${JSON.stringify(keyword)} (log, witness, group, quorum)`);
    }
  });

  if (quorum === null) throw new PolicyError('no quorum line (write "quorum none" to require no witness)');
  if (logs.length === 0) throw new PolicyError('no log line: the policy must name the log key (log <vkey>)');
  const chosen: string = (quorum as { name: string }).name;
  const q = chosen === 'none' ? null : names.get(chosen)!;
  if (q === null) return { logs, witnesses: witnessOrder, quorum: 0 };
  if (q.kind === 'witness') return { logs, witnesses: [q.vkey], quorum: 1 };
  return { logs, witnesses: q.members, quorum: q.k };
}

/** Parses either format (JSON when the first non-blank character is `{`). */
export function parseTrustPolicy(text: string): PolicyFile {
  return text.trimStart().startsWith('{') ? parsePolicyJson(text) : parseTlogPolicy(text);
}

/** Reads and parses a policy file; errors name the file. */
export function readTrustPolicyFile(path: string): PolicyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyError(`cannot read the policy ${path}: ${messageOf(error)}`);
  }
  try {
    return parseTrustPolicy(text);
  } catch (error) {
    throw new PolicyError(`policy ${path}: ${messageOf(error)}`);
  }
}

/** The TrustPolicy for a checkpoint of `origin`: the log key named after it (tlog-policy: key name = origin). */
export function trustPolicyFor(policy: PolicyFile, origin: string | null): TrustPolicy {
  const log = policy.logs.find((vkey) => origin !== null && parseVerifierKey(vkey).name === origin) ?? policy.logs[0]!;
  return { log, registryKey: policy.registryKey, witnesses: policy.witnesses, quorum: policy.quorum };
}

/** The JSON policy file for what a registry announces (certrail verify --save-policy). */
export function formatPolicyJson(policy: PolicyFile): string {
  const out: Record<string, JsonValue> = { log: policy.logs.length === 1 ? policy.logs[0]! : policy.logs };
  if (policy.registryKey !== undefined) out.registryKey = policy.registryKey;
  if (policy.witnesses.length > 0) out.witnesses = policy.witnesses;
  if (policy.quorum > 0) out.quorum = policy.quorum;
  return `${JSON.stringify(out, null, 2)}\n`;
}
