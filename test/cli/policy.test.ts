// Trust policy files: Certrail's JSON form and the C2SP tlog-policy text form (c2sp.org/tlog-policy).
import { describe, expect, it } from 'vitest';
import { parsePolicyJson, parseTlogPolicy, parseTrustPolicy, trustPolicyFor } from '../../src/cli/policy.js';
import { randomBytes } from '../../src/core/crypto.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { cosignatureSigner, formatSignerKey, parseSignerKey } from '../../src/core/note.js';

const log = (await parseSignerKey(formatSignerKey('certrail.example.org/log', randomBytes(32)))).vkey;
const otherLog = (await parseSignerKey(formatSignerKey('other.example/log', randomBytes(32)))).vkey;
const clock = () => 1_700_000_000;
const [w1, w2, w3] = await Promise.all(['w1.example', 'w2.example', 'w3.example'].map(async (n) => (await cosignatureSigner(n, randomBytes(32), clock)).vkey));
const registryKey = encodeMultikey(randomBytes(32));

describe('tlog-policy text', () => {
  it('reads logs, witnesses, a k-of-n group and the quorum, ignoring comments and blank lines', () => {
    const policy = parseTlogPolicy([
      '# Certrail example',
      `log ${log} https://certrail.example.org/log`,
      `  log\t${otherLog}`,
      '',
      `witness W1 ${w1}`,
      `witness W2 ${w2} https://w2.example/`,
      `witness W3 ${w3}`,
      'group two-of-three 2 W1 W2 W3',
      'quorum two-of-three',
    ].join('\n'));
    expect(policy).toEqual({ logs: [log, otherLog], witnesses: [w1, w2, w3], quorum: 2 });
    expect(trustPolicyFor(policy, 'other.example/log').log).toBe(otherLog);
    expect(trustPolicyFor(policy, 'certrail.example.org/log').log).toBe(log);
  });

  it('maps quorum none, a single witness, any and all', () => {
    const base = `log ${log}\nwitness A ${w1}\nwitness B ${w2}\n`;
    expect(parseTlogPolicy(`${base}quorum none\n`)).toMatchObject({ witnesses: [w1, w2], quorum: 0 });
    expect(parseTlogPolicy(`${base}quorum B\n`)).toMatchObject({ witnesses: [w2], quorum: 1 });
    expect(parseTlogPolicy(`${base}group g any A B\nquorum g\n`)).toMatchObject({ witnesses: [w1, w2], quorum: 1 });
    expect(parseTlogPolicy(`${base}group g all A B\nquorum g\n`)).toMatchObject({ witnesses: [w1, w2], quorum: 2 });
  });

  it('refuses what the spec forbids or this verifier cannot express, naming the line', () => {
    const bad: Array<[string, RegExp]> = [
      [`log ${log}\n`, /no quorum line/],
      ['quorum none\n', /no log line/],
      [`log ${log}\nquorum 2\n`, /line 2: 2 is not a witness or group.*group w 2/],
      [`log ${log}\nquorum none\nquorum none\n`, /line 3: a second quorum line/],
      [`log ${log}\nquorum W1\nwitness W1 ${w1}\n`, /line 2: W1 is not a witness or group defined on an earlier line/],
      [`log ${log}\nwitness W1 ${w1}\nwitness W2 ${w1}\nquorum none\n`, /line 3: duplicate witness key/],
      [`log ${log}\nlog ${log}\nquorum none\n`, /line 2: duplicate log key/],
      [`log ${log}\nwitness none ${w1}\nquorum none\n`, /line 2: "none" is predefined/],
      [`log ${log}\nwitness A ${w1}\ngroup g 2 A\nquorum g\n`, /line 3: the threshold must be/],
      [`log ${log}\nwitness A ${w1}\ngroup g any A A\nquorum g\n`, /line 3: A is listed twice/],
      [`log ${log}\nwitness A ${w1}\ngroup g any A\ngroup h any g\nquorum h\n`, /line 4: g is a group; groups of groups are not supported/],
      [`log ${w1}\nquorum none\n`, /line 1: .* is not an Ed25519 log key/],
      [`log ${log}\nwitness A ${log}\nquorum none\n`, /line 2: .* is not a cosignature\/v1 witness key/],
      [`log ${log}\r\nquorum none\r\n`, /line 1: control character .*LF line ends/],
      [`log ${log}\nwitnesses A ${w1}\nquorum none\n`, /line 2: unknown keyword "witnesses"/],
    ];
    for (const [text, message] of bad) expect(() => parseTlogPolicy(text), text).toThrow(message);
  });
});

describe('JSON policy', () => {
  it('reads log, registryKey, witnesses and quorum', () => {
    expect(parseTrustPolicy(JSON.stringify({ log, registryKey, witnesses: [w1, w2], quorum: 1 }))).toEqual({
      logs: [log],
      registryKey,
      witnesses: [w1, w2],
      quorum: 1,
    });
    expect(parsePolicyJson(JSON.stringify({ log: [log, otherLog] }))).toEqual({ logs: [log, otherLog], registryKey: undefined, witnesses: [], quorum: 0 });
  });

  it('refuses unknown members, impossible quorums, wrong key types and duplicate members', () => {
    expect(() => parsePolicyJson(JSON.stringify({ log, witness: [w1] }))).toThrow(/witness: unknown member/);
    expect(() => parsePolicyJson(JSON.stringify({ log, witnesses: [w1], quorum: 2 }))).toThrow(/quorum: must be an integer from 0 to/);
    expect(() => parsePolicyJson(JSON.stringify({ log: w1 }))).toThrow(/not an Ed25519 log key/);
    expect(() => parsePolicyJson(JSON.stringify({ log, registryKey: 'z6MkNope' }))).toThrow(/registryKey: not an Ed25519 Multikey/);
    expect(() => parsePolicyJson(JSON.stringify({ registryKey }))).toThrow(/log: the log verifier key is required/);
    expect(() => parsePolicyJson(`{"log": "${log}", "log": "${otherLog}"}`)).toThrow(/not valid JSON/);
  });
});
