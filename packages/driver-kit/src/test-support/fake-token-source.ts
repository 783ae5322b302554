import type { AccessToken, TokenCredential } from "@azure/core-auth";
import type { InvalidateOptions, TokenDetails, TokenSource, TokenSourceSummary } from "@entra-sql/core";
import { fakeJwt, SQL_SCOPE } from "./fake-jwt.js";

// Hand-written counting fakes of where tokens come from. They read the clock through Date.now, so
// `vi.useFakeTimers()` drives them, and they hand out fake JWTs (fake-jwt.ts) carrying iat/exp.

interface Issued {
  token: string;
  expiresOnTimestamp: number;
}

/** Issues fake JWTs: serial numbers, lifetime and age at issue (a token served from a cache is older). */
class TokenMint {
  readonly issued: string[] = [];
  /** Lifetime of each token (`exp - iat`), ms; keep it whole seconds. Default 60 minutes. */
  lifetimeInMs = 60 * 60_000;
  /** How long before the call each token was issued, ms; keep it whole seconds. Default 0. */
  issuedAgoInMs = 0;

  mint(scope: string): Issued {
    const issuedAtTimestamp = Date.now() - this.issuedAgoInMs;
    const expiresOnTimestamp = issuedAtTimestamp + this.lifetimeInMs;
    const token = fakeJwt({ serial: this.issued.length + 1, issuedAtTimestamp, expiresOnTimestamp, scope });
    this.issued.push(token);
    return { token, expiresOnTimestamp };
  }
}

/**
 * A TokenSource that counts every call. It caches one token per scope (as spelled by the caller) until
 * `invalidate` drops it, so a second token only appears after an invalidation.
 */
export class FakeTokenSource extends TokenMint implements TokenSource {
  readonly calls = {
    getTokenDetails: [] as (string | undefined)[],
    getToken: [] as (string | string[])[],
    invalidate: [] as [scope: string | undefined, options: InvalidateOptions | undefined][],
  };
  readonly defaultScope = SQL_SCOPE;
  readonly activeSource = "FakeTokenSource";
  closed = false;
  readonly #cache = new Map<string, Issued>();

  async getTokenDetails(scope?: string): Promise<TokenDetails> {
    this.calls.getTokenDetails.push(scope);
    const resolved = scope ?? this.defaultScope;
    const { token, expiresOnTimestamp } = this.#cached(resolved);
    return { token, expiresOnTimestamp, refreshAfterTimestamp: undefined, source: "Fake", scope: resolved };
  }

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.calls.getToken.push(scopes);
    const scope = (Array.isArray(scopes) ? scopes[0] : scopes) ?? this.defaultScope;
    const { token, expiresOnTimestamp } = this.#cached(scope);
    return { token, expiresOnTimestamp, tokenType: "Bearer" };
  }

  async getAccessToken(scope?: string): Promise<string> {
    return (await this.getToken(scope ?? this.defaultScope)).token;
  }

  invalidate(scope?: string, options?: InvalidateOptions): void {
    this.calls.invalidate.push([scope, options]);
    if (scope === undefined) this.#cache.clear();
    else this.#cache.delete(scope);
  }

  on(): () => void {
    return () => {};
  }

  off(): void {}

  close(): void {
    this.closed = true;
  }

  toJSON(): TokenSourceSummary {
    return {
      defaultScope: this.defaultScope,
      activeSource: this.activeSource,
      closed: this.closed,
      scopes: [],
    };
  }

  override toString(): string {
    return "FakeTokenSource";
  }

  #cached(scope: string): Issued {
    let issued = this.#cache.get(scope);
    if (issued === undefined) {
      issued = this.mint(scope);
      this.#cache.set(scope, issued);
    }
    return issued;
  }
}

/** A TokenCredential that counts its calls and mints a new fake JWT for each, for a real token source. */
export class FakeCredential extends TokenMint implements TokenCredential {
  readonly calls: (string | string[])[] = [];

  get callCount(): number {
    return this.calls.length;
  }

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.calls.push(scopes);
    const scope = (Array.isArray(scopes) ? scopes[0] : scopes) ?? SQL_SCOPE;
    const { token, expiresOnTimestamp } = this.mint(scope);
    return { token, expiresOnTimestamp, tokenType: "Bearer" };
  }
}
