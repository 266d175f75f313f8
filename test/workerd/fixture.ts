// What test/workerd/global-setup.ts (Node) hands to the tests that run inside workerd (vitest provide/inject).
import type { BundleVerdict, TrustPolicy } from '../../src/core/verify.js';
import type { JsonValue } from '../../src/core/json.js';

export interface WorkerdFixture {
  /** The trust policy: the keys the registry announces at /.well-known/certrail. */
  policy: TrustPolicy;
  /** The time (ms) every verdict is judged at. */
  now: number;
  /** Demo certificate numbers, in the order of `bundles` and `expected`. */
  numbers: string[];
  /** The bundles as served by GET /api/v1/certificates/{issuer}/{number}/bundle, parsed. */
  bundles: JsonValue[];
  /** The verdicts the SDK sources give in Node for the same bundles, policy and time. */
  expected: BundleVerdict[];
  /** The API's status for each certificate (GET /v/{issuer}/{number}, JSON). */
  apiStatus: Array<{ status: string | null; surveillance: string | null; valid: boolean }>;
  /** The text of dist/verify.js, which the plain worker (no Node compatibility) loads as a module. */
  sdkSource: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    workerdFixture: WorkerdFixture;
  }
}
