import { compactVerify, decodeProtectedHeader } from "jose";
import { JwksClient } from "./jwks-client.js";

// Access-token checks at login, in the order Azure SQL applies them: signature against the tenant's
// JWKS, audience, issuer, then the validity window with a clock skew. What comes back says why a
// token was refused; the client only ever sees 18456 (plus "Token is expired." for expiry).

/** Azure SQL's public-cloud resource, with and without the trailing slash (both are accepted). */
export const AZURE_SQL_AUDIENCES = ["https://database.windows.net/", "https://database.windows.net"];

/**
 * 300 s: Microsoft's token validation libraries default to five minutes of clock skew, and Azure SQL
 * accepts tokens a few minutes past `exp`. Tests pass small values to see expiry promptly.
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 300;

export interface TokenVerificationOptions {
  /** Where the signing keys are, e.g. the local Entra ID's `jwksUri`. */
  jwksUri: string;
  /** CA (PEM) to trust when fetching the JWKS over HTTPS. */
  caPem?: string;
  /** Accepted tenants: issuer `https://sts.windows.net/{tenantId}/`. Give this or `issuers`. */
  tenantId?: string | string[];
  /** Accepted issuers, exactly. Overrides `tenantId`. */
  issuers?: string[];
  /** Accepted `aud` values. Default AZURE_SQL_AUDIENCES. */
  audiences?: string[];
  /** Tolerance for `nbf`/`exp`. Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
}

export type TokenFailureReason =
  | "malformed"
  | "unknown-key"
  | "bad-signature"
  | "wrong-audience"
  | "wrong-issuer"
  | "not-yet-valid"
  | "expired"
  | "jwks-unavailable";

export interface AccessTokenClaims {
  aud?: string | string[];
  iss?: string;
  tid?: string;
  oid?: string;
  appid?: string;
  azp?: string;
  upn?: string;
  unique_name?: string;
  preferred_username?: string;
  idtyp?: string;
  scp?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}

/** Who a token says it is, in the terms the stand-in records. */
export interface TokenPrincipal {
  /** UPN for users, the application id for apps and managed identities. */
  name: string;
  objectId: string | undefined;
  appId: string | undefined;
  tenantId: string | undefined;
  kind: "user" | "app";
}

export type TokenCheck =
  | { ok: true; claims: AccessTokenClaims; principal: TokenPrincipal; expiresAt: Date }
  | {
      ok: false;
      reason: TokenFailureReason;
      detail: string;
      claims?: AccessTokenClaims;
      principal?: TokenPrincipal;
      expiresAt?: Date;
    };

export class TokenVerifier {
  private readonly jwks: JwksClient;
  private readonly issuers: string[];
  private readonly audiences: string[];
  readonly clockSkewSeconds: number;

  constructor(options: TokenVerificationOptions) {
    this.jwks = new JwksClient({ jwksUri: options.jwksUri, caPem: options.caPem });
    const tenants = options.tenantId === undefined ? [] : [options.tenantId].flat();
    this.issuers = options.issuers ?? tenants.map((tenant) => `https://sts.windows.net/${tenant}/`);
    if (this.issuers.length === 0) {
      throw new TypeError("SqlStandIn: tokenVerification needs `tenantId` or `issuers`");
    }
    this.audiences = options.audiences ?? AZURE_SQL_AUDIENCES;
    this.clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  }

  get jwksFetchCount(): number {
    return this.jwks.fetchCount;
  }

  async verify(token: string, nowMs: number): Promise<TokenCheck> {
    let header: { kid?: string; alg?: string };
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      return { ok: false, reason: "malformed", detail: `not a JWS: ${(error as Error).message}` };
    }
    if (header.alg !== "RS256") {
      return { ok: false, reason: "bad-signature", detail: `algorithm ${String(header.alg)} is not RS256` };
    }
    if (!header.kid) return { ok: false, reason: "unknown-key", detail: "token header has no kid" };

    let key: Awaited<ReturnType<JwksClient["getKey"]>>;
    try {
      key = await this.jwks.getKey(header.kid);
    } catch (error) {
      return { ok: false, reason: "jwks-unavailable", detail: (error as Error).message };
    }
    if (!key) return { ok: false, reason: "unknown-key", detail: `no signing key with kid ${header.kid}` };

    let claims: AccessTokenClaims;
    try {
      const { payload } = await compactVerify(token, key, { algorithms: ["RS256"] });
      claims = JSON.parse(Buffer.from(payload).toString("utf8")) as AccessTokenClaims;
    } catch (error) {
      return { ok: false, reason: "bad-signature", detail: (error as Error).message };
    }

    const principal = principalOf(claims);
    const expiresAt = typeof claims.exp === "number" ? new Date(claims.exp * 1000) : undefined;
    const fail = (reason: TokenFailureReason, detail: string): TokenCheck => ({
      ok: false,
      reason,
      detail,
      claims,
      principal,
      expiresAt,
    });

    const audiences = [claims.aud ?? []].flat();
    if (!audiences.some((aud) => this.audiences.includes(aud))) {
      return fail(
        "wrong-audience",
        `aud ${JSON.stringify(claims.aud)} is not one of ${this.audiences.join(", ")}`,
      );
    }
    if (!claims.iss || !this.issuers.includes(claims.iss)) {
      return fail("wrong-issuer", `iss ${String(claims.iss)} is not one of ${this.issuers.join(", ")}`);
    }
    const now = nowMs / 1000;
    if (typeof claims.nbf === "number" && now + this.clockSkewSeconds < claims.nbf) {
      return fail("not-yet-valid", `nbf ${claims.nbf} is in the future (now ${Math.floor(now)})`);
    }
    if (typeof claims.exp !== "number" || expiresAt === undefined)
      return fail("malformed", "token has no exp");
    if (now - this.clockSkewSeconds >= claims.exp) {
      return fail(
        "expired",
        `exp ${claims.exp} passed (now ${Math.floor(now)}, skew ${this.clockSkewSeconds} s)`,
      );
    }
    return { ok: true, claims, principal, expiresAt };
  }

  /** Has the token's lifetime (plus skew) run out at `nowMs`? Used when sessions are revalidated. */
  isExpired(expiresAt: Date, nowMs: number): boolean {
    return nowMs - this.clockSkewSeconds * 1000 >= expiresAt.getTime();
  }
}

/**
 * Entra v1 tokens: users carry `upn`/`unique_name` and `idtyp: "user"`; apps and managed identities
 * carry `idtyp: "app"` (older tokens: no `upn` and no `scp`). For user tokens `appid` is the CLIENT
 * application, so it never identifies the principal.
 */
export function principalOf(claims: AccessTokenClaims): TokenPrincipal {
  const upn = claims.upn ?? claims.unique_name ?? claims.preferred_username;
  const isApp = claims.idtyp === "app" || (claims.idtyp === undefined && upn === undefined && !claims.scp);
  const appId = claims.appid ?? claims.azp;
  return {
    name: (isApp ? appId : upn) ?? claims.oid ?? "unknown",
    objectId: claims.oid,
    appId: isApp ? appId : undefined,
    tenantId: claims.tid,
    kind: isApp ? "app" : "user",
  };
}
