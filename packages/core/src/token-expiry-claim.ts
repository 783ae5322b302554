import { decodePayload } from "./token-identity.js";

// The `exp` claim of a JWT access token, read without verifying it (only the server and Entra can
// vouch for a token). Why: a credential's `expiresOnTimestamp` is an estimate. msal computes it from
// `expires_in` and its own clock in whole, rounded seconds, so it can fall up to ~1.5 s after the
// token's `exp`, and `exp` is what Azure SQL checks at login and when it revalidates a session.

/** `exp` in epoch ms, or `undefined` when the token is not a JWT with a numeric `exp` (opaque tokens exist). */
export function expiryClaimOf(token: string): number | undefined {
  let exp: unknown;
  try {
    exp = decodePayload(token).exp;
  } catch {
    return undefined;
  }
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
}
