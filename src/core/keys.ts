// Issuer key history as logged (issuer.key.added / issuer.key.revoked) and the rule for a key's validity at a
// sequencing time. Trust model: validity is judged by the entry's loggedAt, never by a time the issuer claims.

export interface KeyRecord {
  keyId: string;
  publicKey: Uint8Array;
  /** loggedAt of the issuer.key.added entry. */
  addedAt: number;
  /** loggedAt of the issuer.key.revoked entry, if any. */
  revokedAt?: number | undefined;
  /** The compromise time the revocation names, if any (ms). */
  compromisedAt?: number | undefined;
}

/**
 * From when the key signs nothing valid: the compromise time if one was logged, else the revocation's loggedAt.
 * Entries logged at or after it under this key are invalid; those before stay valid.
 */
export function keyInvalidFrom(key: KeyRecord): number {
  return Math.min(key.compromisedAt ?? Infinity, key.revokedAt ?? Infinity);
}

/** Null when `key` was valid for an entry logged at `loggedAt`, else why not. */
export function keyValidityError(key: KeyRecord, loggedAt: number): string | null {
  if (loggedAt < key.addedAt) return `key ${key.keyId} was not yet registered at ${new Date(loggedAt).toISOString()}`;
  const invalidFrom = keyInvalidFrom(key);
  if (loggedAt >= invalidFrom) {
    return key.compromisedAt !== undefined && key.compromisedAt <= (key.revokedAt ?? Infinity)
      ? `key ${key.keyId} was compromised at ${new Date(key.compromisedAt).toISOString()}, before this entry was logged`
      : `key ${key.keyId} was revoked at ${new Date(invalidFrom).toISOString()}, before this entry was logged`;
  }
  return null;
}
