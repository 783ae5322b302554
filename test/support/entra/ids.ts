import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

// Identifier and secret helpers. Everything random comes from node:crypto: these values end up in
// tokens that a verifier (the SQL stand-in) must not be able to predict or confuse between runs.

/** A lower-case GUID, the shape Entra uses for tenant, client and object ids. */
export function newGuid(): string {
  return randomUUID();
}

const SECRET_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-";

/**
 * A client secret in the shape the Azure portal generates today: 40 characters, three characters of
 * prefix, then `8Q~`. Looking real matters little, but tools that sniff secret shapes (and people
 * reading test output) then treat it as a secret.
 */
export function newClientSecret(): string {
  const bytes = randomBytes(37);
  let body = "";
  for (const byte of bytes) body += SECRET_ALPHABET[byte % SECRET_ALPHABET.length];
  return `${body.slice(0, 3)}8Q~${body.slice(3, 37)}`;
}

/** A random base64url string of `byteLength` random bytes (key ids, `uti`, trace ids). */
export function randomBase64Url(byteLength: number): string {
  return randomBytes(byteLength).toString("base64url");
}

/** SHA-256 digest; the directory keeps only this of a client secret, never the secret. */
export function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Constant-time comparison of two strings through their SHA-256 digests (equal lengths always). */
export function secretEquals(candidate: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(sha256(candidate), expectedDigest);
}

/** Constant-time string comparison for shared header secrets (App Service `x-identity-header`). */
export function constantTimeEquals(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
