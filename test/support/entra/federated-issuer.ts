import { inspect } from "node:util";
import { createLocalJWKSet, type JSONWebKeySet } from "jose";
import { TOKEN_EXCHANGE_AUDIENCE } from "./directory.js";
import { newGuid } from "./ids.js";
import { type JsonWebKeySet, LazySigningKey, signJwt } from "./token-minter.js";

// Workload identity federation: Entra trusts JWTs from external OIDC issuers (a Kubernetes cluster's
// service-account issuer, GitHub Actions) when an app has a matching federated credential. The
// local IdP plays a Kubernetes cluster too: it mints service-account tokens with its own key,
// separate from the Entra signing keys, and publishes that key at the issuer's discovery URLs.

export interface FederatedAssertionOptions {
  /** e.g. `system:serviceaccount:default:my-app`. */
  subject: string;
  /** Default `api://AzureADTokenExchange`. */
  audience?: string | readonly string[];
  /** Default 3600. */
  lifetimeSeconds?: number;
  /** Overrides, epoch seconds. */
  notBefore?: number;
  expiresAt?: number;
  /** Sign with a key the issuer does not publish (signature check must fail). */
  untrusted?: boolean;
}

/** The cluster-style issuer the local IdP runs. */
export class LocalFederatedIssuer {
  readonly issuer: string;
  // Generated on first use: most IdP instances never see a workload identity.
  readonly #key = new LazySigningKey();
  readonly #untrustedKey: LazySigningKey;

  /**
   * `baseUrl` is the authority host; the issuer gets a path of its own like an AKS OIDC issuer.
   * `untrustedKey` is published nowhere (for assertions whose signature must fail).
   */
  constructor(baseUrl: string, untrustedKey: LazySigningKey) {
    this.issuer = `${baseUrl}/workload-issuer/${newGuid()}/`;
    this.#untrustedKey = untrustedKey;
  }

  /** Path prefix (no origin) under which the discovery documents are served. */
  get pathPrefix(): string {
    return new URL(this.issuer).pathname;
  }

  jwks(): JsonWebKeySet {
    return { keys: [{ ...this.#key.get().jwk }] };
  }

  openIdConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}openid/v1/jwks`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
    };
  }

  /** A Kubernetes projected service-account token, as the kubelet writes to the token file. */
  mintAssertion(options: FederatedAssertionOptions, nowMs: number): string {
    const nowS = Math.floor(nowMs / 1000);
    const audience = options.audience ?? TOKEN_EXCHANGE_AUDIENCE;
    const payload: Record<string, unknown> = {
      aud: typeof audience === "string" ? [audience] : [...audience],
      exp: options.expiresAt ?? nowS + (options.lifetimeSeconds ?? 3600),
      iat: nowS,
      iss: this.issuer,
      jti: newGuid(),
      nbf: options.notBefore ?? nowS,
      sub: options.subject,
    };
    const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(options.subject);
    if (serviceAccount) {
      payload["kubernetes.io"] = {
        namespace: serviceAccount[1],
        serviceaccount: { name: serviceAccount[2], uid: newGuid() },
      };
    }
    const key = options.untrusted ? this.#untrustedKey.get() : this.#key.get();
    return signJwt({ alg: "RS256", kid: this.#key.get().kid }, payload, key.privateKey);
  }

  toJSON(): object {
    return { issuer: this.issuer };
  }

  [inspect.custom](): object {
    return this.toJSON();
  }
}

/** Issuers whose keys the token endpoint trusts for federated assertions. */
export class FederatedIssuerRegistry {
  readonly #sources = new Map<string, () => JSONWebKeySet | JsonWebKeySet>();
  readonly #keySets = new Map<string, ReturnType<typeof createLocalJWKSet>>();

  /**
   * Trust `issuer` with the given public keys (external issuers a test simulates itself), or with
   * keys read on first use (the built-in issuer's key does not exist until then).
   */
  register(
    issuer: string,
    jwks: JSONWebKeySet | JsonWebKeySet | (() => JSONWebKeySet | JsonWebKeySet),
  ): void {
    this.#sources.set(issuer, typeof jwks === "function" ? jwks : () => jwks);
    this.#keySets.delete(issuer);
  }

  keySet(issuer: string): ReturnType<typeof createLocalJWKSet> | undefined {
    let keySet = this.#keySets.get(issuer);
    const source = this.#sources.get(issuer);
    if (!keySet && source) {
      keySet = createLocalJWKSet(source() as JSONWebKeySet);
      this.#keySets.set(issuer, keySet);
    }
    return keySet;
  }

  toJSON(): object {
    return { issuers: [...this.#sources.keys()] };
  }

  [inspect.custom](): object {
    return this.toJSON();
  }
}
