import { createHash, generateKeyPair, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { inspect, promisify } from "node:util";
import type { PrincipalKind, PrincipalRecord } from "./directory.js";
import { randomBase64Url } from "./ids.js";

// Access tokens in the shape Azure SQL accepts: Entra v1 tokens (`ver` "1.0", `iss`
// https://sts.windows.net/{tid}/) signed RS256 with a `kid` that the JWKS lists. Signing uses
// node:crypto directly: synchronous and fast, which keeps minting out of the request latency.

const generateKeyPairAsync = promisify(generateKeyPair);

/** Azure CLI's public client id; az and azd both sign users in as this app. */
export const AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/** A public JWK as Entra publishes it (RSA, `use` "sig"). */
export interface PublicJwk {
  kty: "RSA";
  use: "sig";
  kid: string;
  /** Entra sets `x5t` equal to `kid`. */
  x5t: string;
  n: string;
  e: string;
  alg: "RS256";
}

export interface JsonWebKeySet {
  keys: PublicJwk[];
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: PublicJwk;
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048 });
  return signingKeyFrom(privateKey, publicKey);
}

/**
 * Blocks the event loop for the key generation (~250 ms): only for keys a minority of tests use,
 * generated on first use so every other IdP start skips them (see `LazySigningKey`).
 */
export function generateSigningKeySync(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return signingKeyFrom(privateKey, publicKey);
}

function signingKeyFrom(privateKey: KeyObject, publicKey: KeyObject): SigningKey {
  const exported = publicKey.export({ format: "jwk" });
  if (typeof exported.n !== "string" || typeof exported.e !== "string") {
    throw new Error("RSA public key export produced no modulus/exponent");
  }
  // Entra's key ids look like SHA-1 thumbprints in base64url; derive one from the modulus.
  const kid = createHash("sha1").update(exported.n).digest("base64url");
  const key: SigningKey = {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: "RSA", use: "sig", kid, x5t: kid, n: exported.n, e: exported.e, alg: "RS256" },
  };
  // A key object's inspect output is harmless, but keep the whole key opaque in logs anyway.
  Object.defineProperty(key, inspect.custom, { value: () => `SigningKey(${kid})`, enumerable: false });
  return key;
}

/** A signing key made the first time it is needed. */
export class LazySigningKey {
  #key: SigningKey | undefined;

  get(): SigningKey {
    this.#key ??= generateSigningKeySync();
    return this.#key;
  }

  [inspect.custom](): string {
    return `LazySigningKey(${this.#key ? this.#key.kid : "not generated"})`;
  }
}

/** Compact JWS, RS256. */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString("base64url");
  const encodedPayload = Buffer.from(JSON.stringify(payload)).toString("base64url");
  const signingInput = `${encodedHeader}.${encodedPayload}`;
  const signature = sign("sha256", Buffer.from(signingInput), key).toString("base64url");
  return `${signingInput}.${signature}`;
}

/**
 * The IdP's signing keys: the current one signs, the previous one (after a rotation) is still
 * published so tokens signed before the rotation keep verifying, as with Entra's key rollover.
 * `untrusted` is a key that is never published: tokens it signs must fail verification.
 */
export class SigningKeySet {
  #current: SigningKey;
  #previous: SigningKey | undefined;
  readonly #untrusted: LazySigningKey;

  /** `untrusted` may be shared with the federated issuer: both only need "a key nobody trusts". */
  constructor(current: SigningKey, untrusted: LazySigningKey) {
    this.#current = current;
    this.#untrusted = untrusted;
  }

  get untrusted(): SigningKey {
    return this.#untrusted.get();
  }

  get current(): SigningKey {
    return this.#current;
  }

  get previous(): SigningKey | undefined {
    return this.#previous;
  }

  /** New current key; the old current stays published as previous; the one before is dropped. */
  async rotate(): Promise<SigningKey> {
    const next = await generateSigningKey();
    this.#previous = this.#current;
    this.#current = next;
    return next;
  }

  jwks(): JsonWebKeySet {
    const keys = [this.#current.jwk, ...(this.#previous ? [this.#previous.jwk] : [])];
    return { keys: keys.map((k) => ({ ...k })) };
  }

  toJSON(): object {
    return { current: this.#current.kid, previous: this.#previous?.kid };
  }

  [inspect.custom](): object {
    return this.toJSON();
  }
}

/** Claims of an Entra v1 access token as the local IdP issues them. */
export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  aio: string;
  appid: string;
  /** "0" public client, "1" client secret, "2" certificate / assertion / managed identity. */
  appidacr: "0" | "1" | "2";
  idp: string;
  idtyp: "user" | "app";
  oid: string;
  rh: string;
  sub: string;
  tid: string;
  uti: string;
  ver: "1.0";
  // users
  upn?: string;
  unique_name?: string;
  name?: string;
  scp?: string;
  amr?: string[];
  acr?: string;
  ipaddr?: string;
  // managed identities
  xms_mirid?: string;
  [claim: string]: unknown;
}

/** The facts about a principal a token needs. */
export interface TokenSubject {
  kind: PrincipalKind;
  objectId: string;
  tenantId: string;
  displayName: string;
  clientId?: string;
  upn?: string;
  resourceId?: string;
}

export function tokenSubject(record: PrincipalRecord): TokenSubject {
  switch (record.kind) {
    case "user":
      return { ...common(record), upn: record.upn };
    case "app":
      return { ...common(record), clientId: record.clientId };
    case "managedIdentity":
      return { ...common(record), clientId: record.clientId, resourceId: record.resourceId };
  }
}

function common(record: PrincipalRecord): TokenSubject {
  return {
    kind: record.kind,
    objectId: record.objectId,
    tenantId: record.tenantId,
    displayName: record.displayName,
  };
}

export interface MintOptions {
  subject: TokenSubject;
  /** The audience, exactly as requested (`https://database.windows.net/`). */
  resource: string;
  /** The IdP's now, epoch ms. */
  nowMs: number;
  lifetimeSeconds: number;
  /** Default: the subject's tenant. */
  tenantId?: string;
  /** Default: `https://sts.windows.net/{tid}/`. */
  issuer?: string;
  /** epoch seconds; defaults: iat = nbf = now, exp = now + lifetime. */
  issuedAt?: number;
  notBefore?: number;
  expiresAt?: number;
  /** How the client authenticated; default "1" for apps, "2" for managed identities, "0" for users. */
  appidacr?: "0" | "1" | "2";
  /** For user tokens: the public client the user signed in with. Default Azure CLI. */
  clientAppId?: string;
  signingKey: SigningKey;
  /** Header `kid` override; `null` leaves it out. */
  kid?: string | null;
  /** Extra claims, applied last; a value of `undefined` removes the claim. */
  claims?: Record<string, unknown>;
}

export interface MintedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  /** `exp` in epoch milliseconds. */
  expiresOnTimestamp: number;
}

export function stsIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

export function mintAccessToken(options: MintOptions): MintedAccessToken {
  const { subject } = options;
  const nowS = Math.floor(options.nowMs / 1000);
  const tid = options.tenantId ?? subject.tenantId;
  const iss = options.issuer ?? stsIssuer(tid);
  const iat = options.issuedAt ?? nowS;
  const nbf = options.notBefore ?? iat;
  const exp = options.expiresAt ?? nowS + Math.round(options.lifetimeSeconds);
  const isUser = subject.kind === "user";
  const appid = isUser ? (options.clientAppId ?? AZURE_CLI_CLIENT_ID) : (subject.clientId ?? "");
  const claims: AccessTokenClaims = {
    aud: options.resource,
    iss,
    iat,
    nbf,
    exp,
    aio: randomBase64Url(48),
    appid,
    appidacr: options.appidacr ?? (isUser ? "0" : subject.kind === "managedIdentity" ? "2" : "1"),
    idp: iss,
    idtyp: isUser ? "user" : "app",
    oid: subject.objectId,
    rh: `0.${randomBase64Url(40)}.`,
    // Entra's `sub` is pairwise for users (per user and client app); for apps it equals `oid`.
    sub: isUser
      ? createHash("sha256").update(`${subject.objectId}|${appid}`).digest("base64url").slice(0, 43)
      : subject.objectId,
    tid,
    uti: randomBase64Url(16),
    ver: "1.0",
  };
  if (isUser) {
    delete (claims as Partial<AccessTokenClaims>).idp;
    Object.assign(claims, {
      acr: "1",
      amr: ["pwd"],
      ipaddr: "127.0.0.1",
      name: subject.displayName,
      scp: "user_impersonation",
      unique_name: subject.upn,
      upn: subject.upn,
    });
  }
  if (subject.kind === "managedIdentity" && subject.resourceId) claims.xms_mirid = subject.resourceId;
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  const header: Record<string, unknown> = { typ: "JWT", alg: "RS256" };
  const kid = options.kid === undefined ? options.signingKey.kid : options.kid;
  if (kid !== null) {
    header.x5t = kid;
    header.kid = kid;
  }
  return {
    token: signJwt(header, claims, options.signingKey.privateKey),
    claims,
    expiresOnTimestamp: claims.exp * 1000,
  };
}
