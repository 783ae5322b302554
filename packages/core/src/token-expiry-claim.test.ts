import { describe, expect, it } from "vitest";
import { expiryClaimOf } from "./token-expiry-claim.js";
import { createTokenSource } from "./token-source.js";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwt = (claims: Record<string, unknown>) => `${b64url({ alg: "RS256" })}.${b64url(claims)}.c2ln`;

describe("expiryClaimOf", () => {
  it("reads exp in ms, and nothing from opaque or malformed tokens", () => {
    expect(expiryClaimOf(jwt({ exp: 1_767_270_000 }))).toBe(1_767_270_000_000);
    expect(expiryClaimOf(jwt({ exp: "soon" }))).toBeUndefined();
    expect(expiryClaimOf("opaque-token")).toBeUndefined();
    expect(expiryClaimOf("a.!!!.c")).toBeUndefined();
  });
});

describe("the token source", () => {
  it("takes the token's exp when it is earlier than the credential's estimate (msal rounds to seconds)", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = jwt({ exp });
    const estimate = exp * 1000 + 1_400;
    const source = createTokenSource({
      credential: { getToken: async () => ({ token, expiresOnTimestamp: estimate }) },
    });
    try {
      expect((await source.getTokenDetails()).expiresOnTimestamp).toBe(exp * 1000);
      source.invalidate();
      const later = createTokenSource({
        credential: { getToken: async () => ({ token: "opaque", expiresOnTimestamp: estimate }) },
      });
      expect((await later.getTokenDetails()).expiresOnTimestamp).toBe(estimate);
      later.close();
    } finally {
      source.close();
    }
  });
});
