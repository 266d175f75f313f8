// The offline verification SDK, importable as `certrail/verify` (package.json `exports`; bundled by
// scripts/build/sdk.ts into dist/verify.js). It runs in Node, browsers and Workers: like all of src/core it imports
// nothing from `node:` (test/core/sdk.test.ts fails on such an import) and needs only WebCrypto, which it uses for
// Ed25519 when the runtime has it (else pure JS, @noble/ed25519).
//
// The whole surface:
//   parseBundle(json)                      the parsed JSON of GET /api/v1/certificates/{issuer}/{number}/bundle
//                                          → Bundle (throws RegistryError 'bad-request' on anything else)
//   verifyBundle(bundle, policy, { now })  → BundleVerdict: the API's verdict shape (valid, status, surveillance,
//                                          named checks) plus the certificate id and the checkpoint it rests on
//   useSha256(fn)                          plug in a native synchronous SHA-256 (Node: crypto.hash) for speed
//   useEd25519Verify(fn)                   plug in a native Ed25519 verifier (Node: crypto.verify) for speed; the
//                                          SDK's strict encoding checks still run before it
//   TrustPolicy                            { log, registryKey?, witnesses?, quorum? }, modelled on C2SP tlog-policy:
//                                          the log's verifier key, the registry key that signs issuer entries,
//                                          witness cosignature/v1 verifier keys and how many of them must cosign
//
//   import { parseBundle, verifyBundle } from 'certrail/verify';
//   const policy = { log: 'certrail.example.org/log+1a2b3c4d+AQ…', registryKey: 'z6Mk…', witnesses: [], quorum: 0 };
//   const bundle = parseBundle(await (await fetch(bundleUrl)).json());
//   const verdict = await verifyBundle(bundle, policy, { now: Date.now() });
//   if (!verdict.valid) console.log(verdict.status, verdict.checks.filter((c) => !c.ok));
//
// The policy is the relying party's decision, so it is passed as data: take it from a source you trust (the keys a
// registry announces at /.well-known/certrail are trust on first use). Policy files (JSON or C2SP tlog-policy text)
// are read by `certrail verify --policy` (src/cli/policy.ts).
//
// Trust assumption: the policy is the only thing trusted. Everything in the bundle (checkpoint, entries, proofs) is
// checked against it; a malformed or tampered bundle yields a verdict with failed checks, never an exception.
export { BUNDLE_MEDIA_TYPE, MAX_BUNDLE_ENTRIES, parseBundle, verifyBundle } from './bundle.js';
export type { Bundle, BundleEntry, BundleVerdict, TrustPolicy } from './bundle.js';
export type { Check, CheckName, Verdict } from './verdict.js';
export type { CertificateStatus, SurveillanceState } from './status.js';
export { RegistryError, type RegistryErrorCode } from './errors.js';
// Node callers may plug in native SHA-256 (`useSha256((d) => crypto.hash('sha256', d, 'buffer'))`), about 2.5x
// faster than the pure-JS default for Merkle proofs, and native Ed25519 verification
// (`useEd25519Verify((pk, msg, sig) => crypto.verify(null, msg, keyObjectOf(pk), sig))`, with the KeyObjects cached),
// about 30% cheaper than WebCrypto's; browsers and Workers keep the defaults.
export { useEd25519Verify, useSha256, type Ed25519Verifier } from './crypto.js';
