import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import type { JSONWebKeySet } from "jose";
import { type CertificateAuthority, createCertificateAuthority } from "../pki/certificate-authority.js";
import {
  Directory,
  type PrincipalInfo,
  type PrincipalRef,
  type RegisterAppOptions,
  type RegisteredApp,
  type RegisteredManagedIdentity,
  type RegisteredPrincipal,
  type RegisteredUser,
  type RegisterManagedIdentityOptions,
  type RegisterUserOptions,
} from "./directory.js";
import type { ListenerName } from "./endpoints.js";
import type { LocalEntraEvent, LocalEntraEventHandler } from "./events.js";
import { FakeCli } from "./fake-cli.js";
import { type CliRuntime, writeCliScripts } from "./fake-cli-scripts.js";
import { Faults } from "./faults.js";
import {
  type FederatedAssertionOptions,
  FederatedIssuerRegistry,
  LocalFederatedIssuer,
} from "./federated-issuer.js";
import { newGuid, randomBase64Url } from "./ids.js";
import { Listener } from "./listener.js";
import { createRequestHandler, type Router } from "./request-pipeline.js";
import { ResourceRegistry } from "./resources.js";
import { appServiceRouter, authorityRouter, cliRouter, imdsRouter } from "./routes.js";
import { LocalEntraSettings, type LocalEntraSettingsValues } from "./settings.js";
import { type RequestLogEntry, Stats } from "./stats.js";
import {
  generateSigningKey,
  type JsonWebKeySet,
  LazySigningKey,
  type MintedAccessToken,
  mintAccessToken,
  SigningKeySet,
  stsIssuer,
  type TokenSubject,
  tokenSubject,
} from "./token-minter.js";

// The local Microsoft Entra ID: one object that starts the HTTPS authority (discovery, JWKS,
// token endpoint), the two managed-identity endpoints (plain http, like Azure's), the fake az/azd
// CLIs, and holds the directory, signing keys, settings, faults and counters tests drive.
// Everything binds 127.0.0.1; nothing touches process-wide state (env vars, global agents): tests
// opt in per credential with `credentialOptions()` and the `env` helpers.

export interface LocalEntraOptions {
  /** Port of the HTTPS authority. Default: random. */
  port?: number;
  /** The CA that issues the authority's certificate. Default: a new one. */
  ca?: CertificateAuthority;
  /** The default tenant. Default: a random GUID. */
  tenantId?: string;
  settings?: Partial<LocalEntraSettingsValues>;
  /** Diagnostics hook; exceptions it throws are ignored. */
  onEvent?: LocalEntraEventHandler;
  /** How the fake az/azd reach the IdP. Default "auto" (curl when available, else node). */
  cliRuntime?: "auto" | CliRuntime;
  /** Request log size cap (oldest dropped). Default 10,000. */
  requestLogLimit?: number;
  /** Resources (token audiences) to accept besides the built-in list. */
  resources?: readonly string[];
}

/** Options of `entra.mintAccessToken` (hand-made tokens for negative tests). */
export interface MintAccessTokenOptions {
  /**
   * Whose token: a registered principal (by reference or registration object), or a bare subject
   * for a principal the directory does not know (a deleted one, a foreign tenant's).
   */
  principal: PrincipalRef | RegisteredPrincipal | TokenSubject;
  /** Default `https://database.windows.net/`. */
  resource?: string;
  /** Default `settings.tokenLifetimeSeconds`; negative values make expired tokens. */
  lifetimeSeconds?: number;
  /** Epoch seconds or Date. Defaults: iat = nbf = now, exp = now + lifetime. */
  issuedAt?: number | Date;
  notBefore?: number | Date;
  expiresAt?: number | Date;
  /** A foreign issuer (default `https://sts.windows.net/{tid}/`). */
  issuer?: string;
  /** `tid` (and default issuer tenant). Default: the principal's tenant. */
  tenantId?: string;
  /**
   * "untrusted" signs with a key the JWKS does not list, while the header names the current key:
   * a forged token whose signature check must fail. Default "current".
   */
  signWith?: "current" | "previous" | "untrusted";
  /** Header `kid` override; `null` omits it. */
  kid?: string | null;
  appidacr?: "0" | "1" | "2";
  /** For user tokens, the client app id (`appid`). Default Azure CLI. */
  clientAppId?: string;
  /** Extra or overriding claims; `undefined` removes one. */
  claims?: Record<string, unknown>;
}

/** The credential options every @azure/identity credential needs to use this IdP. */
export interface LocalEntraCredentialOptions {
  authorityHost: string;
  disableInstanceDiscovery: true;
  tlsOptions: { ca: string };
}

export const SQL_RESOURCE = "https://database.windows.net/";
/** The scope Azure SQL clients ask for (note the double slash). */
export const SQL_SCOPE = "https://database.windows.net//.default";

interface Internals {
  ca: CertificateAuthority;
  directory: Directory;
  keys: SigningKeySet;
  federatedIssuer: LocalFederatedIssuer;
  federation: FederatedIssuerRegistry;
  resources: ResourceRegistry;
  stats: Stats;
  listeners: Map<ListenerName, Listener>;
  tempDir: string;
  emit: LocalEntraEventHandler;
  closed: Promise<void> | undefined;
}

export class LocalEntra {
  /** `https://127.0.0.1:PORT`: the credentials' `authorityHost`. */
  readonly authorityHost: string;
  /** The CA certificate (PEM) that issued the authority's TLS certificate: clients' `ca`. */
  readonly caPem: string;
  /** The default tenant. */
  readonly tenantId: string;
  /** JWKS of the v1 tokens (`{authorityHost}/common/discovery/keys`); every tenant serves the same keys. */
  readonly jwksUri: string;
  /** App Service managed identity: `IDENTITY_ENDPOINT`. */
  readonly identityEndpoint: string;
  /** App Service managed identity: `IDENTITY_HEADER` (kept out of inspect/JSON output). */
  readonly identityHeader: string;
  /** IMDS base URL (`AZURE_POD_IDENTITY_AUTHORITY_HOST`), `http://127.0.0.1:PORT`. */
  readonly imdsHost: string;
  /** The issuer URL of the built-in Kubernetes-style workload identity issuer. */
  readonly federatedIssuer: string;
  /** The subscription of the fake resources and of the fake CLIs' account. */
  readonly subscriptionId: string;
  readonly settings: LocalEntraSettings;
  readonly faults: Faults;
  /** Per-endpoint and per-identity counters; see also `requestLog`. */
  readonly counters: Stats;
  readonly cli: FakeCli;
  /** Which runtime the fake CLI scripts use. */
  readonly cliRuntime: CliRuntime;
  readonly #internals: Internals;

  /** Use `startLocalEntra()`. */
  private constructor(init: {
    ports: Record<ListenerName, number>;
    internals: Internals;
    settings: LocalEntraSettings;
    faults: Faults;
    cli: FakeCli;
    cliRuntime: CliRuntime;
    identityHeader: string;
  }) {
    const { internals } = init;
    this.#internals = internals;
    this.authorityHost = `https://127.0.0.1:${init.ports.authority}`;
    this.caPem = internals.ca.certificatePem;
    this.tenantId = internals.directory.defaultTenantId;
    this.jwksUri = `${this.authorityHost}/common/discovery/keys`;
    this.identityEndpoint = `http://127.0.0.1:${init.ports.appService}/msi/token`;
    this.identityHeader = init.identityHeader;
    this.imdsHost = `http://127.0.0.1:${init.ports.imds}`;
    this.federatedIssuer = internals.federatedIssuer.issuer;
    this.subscriptionId = internals.directory.subscriptionId;
    this.settings = init.settings;
    this.faults = init.faults;
    this.counters = internals.stats;
    this.cli = init.cli;
    this.cliRuntime = init.cliRuntime;
  }

  /** @internal Wiring; see `startLocalEntra`. */
  static async _start(options: LocalEntraOptions = {}): Promise<LocalEntra> {
    // RSA key generation dominates start-up (~250 ms a key on a small machine): generate the
    // signing key while the CA works, and leave the keys few tests need (the never-published key,
    // the federated issuer's) to first use.
    const generatedKey = generateSigningKey();
    const ca = options.ca ?? (await createCertificateAuthority("entra-sql local Entra ID CA"));
    const [tls, signingKey] = await Promise.all([
      ca.issue({ commonName: "127.0.0.1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }),
      generatedKey,
    ]);
    const untrustedKey = new LazySigningKey();
    const keys = new SigningKeySet(signingKey, untrustedKey);
    const onEvent = options.onEvent;
    const emit: LocalEntraEventHandler = (event: LocalEntraEvent) => {
      try {
        onEvent?.(event);
      } catch {
        // A diagnostics hook must never break the IdP.
      }
    };
    const settings = new LocalEntraSettings(options.settings);
    const directory = new Directory(options.tenantId ?? newGuid());
    const stats = new Stats(options.requestLogLimit ?? 10_000);
    const resources = new ResourceRegistry(options.resources);
    const federation = new FederatedIssuerRegistry();
    const listeners = new Map<ListenerName, Listener>();
    const faults = new Faults(
      {
        suspend: (name) => {
          listeners.get(name)?.suspend();
          emit({ type: "listener", listener: name, state: "suspended" });
        },
        resume: async (name) => {
          await listeners.get(name)?.resume();
          emit({ type: "listener", listener: name, state: "resumed" });
        },
      },
      (change, fault) => emit({ type: change === "injected" ? "faultInjected" : "faultCleared", ...fault }),
    );

    const authorityServer = https.createServer({ cert: tls.certificatePem, key: tls.privateKeyPem });
    const servers = {
      authority: authorityServer,
      appService: http.createServer(),
      imds: http.createServer(),
      cli: http.createServer(),
    } as const;
    for (const name of ["authority", "appService", "imds", "cli"] as const) {
      const onError = (error: Error) =>
        emit({ type: "error", message: `${name} listener: ${error.message}` });
      listeners.set(name, new Listener(name, servers[name], onError));
    }

    const tempDir = await mkdtemp(path.join(tmpdir(), "local-entra-"));
    try {
      // Listen first: the routes need the authority URL. Requests arriving before the handlers
      // are attached below wait (nobody knows the ports yet anyway).
      const ports = {
        authority: await mustGet(listeners, "authority").listen(options.port ?? 0),
        appService: await mustGet(listeners, "appService").listen(0),
        imds: await mustGet(listeners, "imds").listen(0),
        cli: await mustGet(listeners, "cli").listen(0),
      };
      const authorityHost = `https://127.0.0.1:${ports.authority}`;
      const federatedIssuer = new LocalFederatedIssuer(authorityHost, untrustedKey);
      federation.register(federatedIssuer.issuer, () => federatedIssuer.jwks());

      const identityHeader = randomBase64Url(24);
      const cliKey = randomBase64Url(24);
      const binDir = path.join(tempDir, "bin");
      await mkdir(binDir);
      await mkdir(path.join(tempDir, "tokens"));
      const common = { directory, keys, settings, resources, authorityHost };
      const cli = new FakeCli(binDir, cliKey, common);
      const cliRuntime = await writeCliScripts(
        binDir,
        { port: ports.cli, key: cliKey },
        options.cliRuntime ?? "auto",
      );

      const discoveryDeps = { directory, authorityHost, jwks: () => keys.jwks() };
      const tokenDeps = { ...common, federation };
      const miDeps = { directory, keys, settings, resources, identityHeader };
      const routers: Record<ListenerName, Router> = {
        authority: authorityRouter({ discoveryDeps, tokenDeps, federatedIssuer }),
        appService: appServiceRouter(miDeps),
        imds: imdsRouter(miDeps),
        cli: cliRouter(cli),
      };
      const pipelineDeps = { faults, stats, emit, now: () => settings.now(), authorityHost };
      for (const name of ["authority", "appService", "imds", "cli"] as const) {
        servers[name].on("request", createRequestHandler(routers[name], pipelineDeps));
      }

      return new LocalEntra({
        ports,
        internals: {
          ca,
          directory,
          keys,
          federatedIssuer,
          federation,
          resources,
          stats,
          listeners,
          tempDir,
          emit,
          closed: undefined,
        },
        settings,
        faults,
        cli,
        cliRuntime,
        identityHeader,
      });
    } catch (error) {
      await Promise.all([...listeners.values()].map((l) => l.close()));
      await rm(tempDir, { recursive: true, force: true });
      throw error;
    }
  }

  // ---- URLs ------------------------------------------------------------------------------------

  /** The `iss` of v1 access tokens: `https://sts.windows.net/{tid}/`. */
  issuer(tenantId: string = this.tenantId): string {
    return stsIssuer(tenantId);
  }

  /** `{authorityHost}/{tid}/oauth2/v2.0/token`. */
  tokenEndpoint(tenantId: string = this.tenantId): string {
    return `${this.authorityHost}/${tenantId}/oauth2/v2.0/token`;
  }

  /** The discovery document URL (v2 by default, as MSAL uses; v1 names the sts.windows.net issuer). */
  openIdConfigurationUrl(tenantId: string = this.tenantId, version: 1 | 2 = 2): string {
    return version === 2
      ? `${this.authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`
      : `${this.authorityHost}/${tenantId}/.well-known/openid-configuration`;
  }

  /** Options for any @azure/identity credential: authority, no instance discovery, trust our CA. */
  credentialOptions(): LocalEntraCredentialOptions {
    return {
      authorityHost: this.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: this.caPem },
    };
  }

  /** Environment variables for the credential sources; stub them in the test's own process only. */
  get env(): {
    appService(): Record<"IDENTITY_ENDPOINT" | "IDENTITY_HEADER", string>;
    imds(): Record<"AZURE_POD_IDENTITY_AUTHORITY_HOST", string>;
    workloadIdentity(options: {
      clientId: string;
      tokenFilePath: string;
      tenantId?: string;
    }): Record<
      "AZURE_TENANT_ID" | "AZURE_CLIENT_ID" | "AZURE_FEDERATED_TOKEN_FILE" | "AZURE_AUTHORITY_HOST",
      string
    >;
    cli(basePath?: string): Record<"PATH", string>;
  } {
    return {
      appService: () => ({ IDENTITY_ENDPOINT: this.identityEndpoint, IDENTITY_HEADER: this.identityHeader }),
      imds: () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: this.imdsHost }),
      workloadIdentity: (options) => ({
        AZURE_TENANT_ID: options.tenantId ?? this.tenantId,
        AZURE_CLIENT_ID: options.clientId,
        AZURE_FEDERATED_TOKEN_FILE: options.tokenFilePath,
        AZURE_AUTHORITY_HOST: this.authorityHost,
      }),
      cli: (basePath) => ({ PATH: this.cli.pathWithCli(basePath) }),
    };
  }

  // ---- directory ---------------------------------------------------------------------------------

  addTenant(tenantId?: string): string {
    return this.#internals.directory.addTenant(tenantId);
  }

  registerUser(options: RegisterUserOptions): RegisteredUser {
    return this.#internals.directory.registerUser(options);
  }

  registerApp(options: RegisterAppOptions): RegisteredApp {
    return this.#internals.directory.registerApp(options);
  }

  registerManagedIdentity(options: RegisterManagedIdentityOptions): RegisteredManagedIdentity {
    return this.#internals.directory.registerManagedIdentity(options);
  }

  /** Replaces an app's secrets with one new one (given or generated) and returns it. */
  resetClientSecret(app: PrincipalRef, secret?: string): string {
    return this.#internals.directory.resetClientSecret(app, secret);
  }

  /** User by UPN, app or managed identity by display name; see `Directory.findPrincipalByName`. */
  findPrincipalByName(name: string, tenantId?: string): PrincipalInfo | undefined {
    return this.#internals.directory.findPrincipalByName(name, tenantId);
  }

  findPrincipalByObjectId(objectId: string): PrincipalInfo | undefined {
    return this.#internals.directory.findPrincipalByObjectId(objectId);
  }

  listPrincipals(): PrincipalInfo[] {
    return this.#internals.directory.listPrincipals();
  }

  /** The principal gets no new tokens (AADSTS7000112 for apps, 50057 for users) until `enable`. */
  disable(principal: PrincipalRef): void {
    this.#internals.directory.disable(principal);
  }

  enable(principal: PrincipalRef): void {
    this.#internals.directory.enable(principal);
  }

  /** Deletes the principal; tokens already issued stay valid until they expire, as in Entra. */
  revoke(principal: PrincipalRef): void {
    this.#internals.directory.revoke(principal);
  }

  /** Accept tokens for another resource (application ID URI). */
  addResource(resource: string): void {
    this.#internals.resources.add(resource);
  }

  // ---- keys and tokens ---------------------------------------------------------------------------

  /** The published signing keys (current, and previous after a rotation). */
  jwks(): JsonWebKeySet {
    return this.#internals.keys.jwks();
  }

  /** New signing key; the old one stays in the JWKS (one generation), older ones drop out. */
  async rotateSigningKey(): Promise<string> {
    const key = await this.#internals.keys.rotate();
    this.#internals.emit({ type: "keyRotated", kid: key.kid });
    return key.kid;
  }

  /** The IdP's now (epoch ms): `Date.now() + settings.clockOffsetMs`. */
  now(): number {
    return this.settings.now();
  }

  /** A token minted directly (no request, not counted): expired, wrong audience, foreign issuer... */
  mintAccessToken(options: MintAccessTokenOptions): MintedAccessToken {
    const { keys, directory } = this.#internals;
    const subject = this.#subjectOf(options.principal, directory);
    const signingKey =
      options.signWith === "untrusted"
        ? keys.untrusted
        : options.signWith === "previous"
          ? (keys.previous ?? failNoPrevious())
          : keys.current;
    return mintAccessToken({
      subject,
      resource: options.resource ?? SQL_RESOURCE,
      nowMs: this.now(),
      lifetimeSeconds: options.lifetimeSeconds ?? this.settings.tokenLifetimeSeconds,
      ...(options.tenantId !== undefined ? { tenantId: options.tenantId } : {}),
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      ...(options.issuedAt !== undefined ? { issuedAt: epochSeconds(options.issuedAt) } : {}),
      ...(options.notBefore !== undefined ? { notBefore: epochSeconds(options.notBefore) } : {}),
      ...(options.expiresAt !== undefined ? { expiresAt: epochSeconds(options.expiresAt) } : {}),
      ...(options.appidacr !== undefined ? { appidacr: options.appidacr } : {}),
      ...(options.clientAppId !== undefined ? { clientAppId: options.clientAppId } : {}),
      // A forged token names a published key (the current one) so a verifier gets as far as the
      // signature check; pass `kid` to name the unpublished key instead.
      ...(options.kid !== undefined
        ? { kid: options.kid }
        : options.signWith === "untrusted"
          ? { kid: keys.current.kid }
          : {}),
      ...(options.claims !== undefined ? { claims: options.claims } : {}),
      signingKey,
    });
  }

  /** A Kubernetes-style service-account token from the built-in federated issuer. */
  mintFederatedAssertion(options: FederatedAssertionOptions): string {
    return this.#internals.federatedIssuer.mintAssertion(options, this.now());
  }

  /**
   * Writes a federated token file (what the AKS webhook projects) and returns its path; removed on
   * close. Pass an assertion, or options to mint one.
   */
  async writeFederatedTokenFile(assertion: string | FederatedAssertionOptions): Promise<string> {
    const token = typeof assertion === "string" ? assertion : this.mintFederatedAssertion(assertion);
    const file = path.join(this.#internals.tempDir, "tokens", `${newGuid()}.jwt`);
    await writeFile(file, token, { mode: 0o600 });
    return file;
  }

  /** Trust another federated issuer (a test simulating GitHub Actions, say) with these keys. */
  registerFederatedIssuer(issuer: string, jwks: JSONWebKeySet | JsonWebKeySet): void {
    this.#internals.federation.register(issuer, jwks);
  }

  // ---- observation -------------------------------------------------------------------------------

  /** Copy of the request log, oldest first; never holds secrets, assertions or tokens. */
  get requestLog(): readonly RequestLogEntry[] {
    return this.#internals.stats.requestLog;
  }

  /** Stops every listener and removes the fake CLIs and token files. Idempotent. */
  close(): Promise<void> {
    const internals = this.#internals;
    internals.closed ??= (async () => {
      await Promise.all([...internals.listeners.values()].map((l) => l.close()));
      await rm(internals.tempDir, { recursive: true, force: true });
    })();
    return internals.closed;
  }

  toJSON(): object {
    return {
      authorityHost: this.authorityHost,
      tenantId: this.tenantId,
      jwksUri: this.jwksUri,
      identityEndpoint: this.identityEndpoint,
      imdsHost: this.imdsHost,
      federatedIssuer: this.federatedIssuer,
      cliRuntime: this.cliRuntime,
      settings: this.settings.toJSON(),
      faults: this.faults.toJSON(),
      cli: this.cli.toJSON(),
      counters: this.counters.snapshot(),
      principals: this.listPrincipals().length,
      signingKeys: this.#internals.keys.toJSON(),
      closed: this.#internals.closed !== undefined,
    };
  }

  [inspect.custom](): string {
    return `LocalEntra ${inspect(this.toJSON(), { depth: 4 })}`;
  }

  #subjectOf(principal: MintAccessTokenOptions["principal"], directory: Directory): TokenSubject {
    const record = directory.tryResolve(principal as PrincipalRef);
    if (record) return tokenSubject(record);
    if (typeof principal === "object" && "kind" in principal && "tenantId" in principal) {
      const p = principal as TokenSubject & { clientId?: string; upn?: string; resourceId?: string };
      return {
        kind: p.kind,
        objectId: p.objectId,
        tenantId: p.tenantId,
        displayName: p.displayName,
        ...(p.clientId !== undefined ? { clientId: p.clientId } : {}),
        ...(p.upn !== undefined ? { upn: p.upn } : {}),
        ...(p.resourceId !== undefined ? { resourceId: p.resourceId } : {}),
      };
    }
    throw new Error(`mintAccessToken: unknown principal ${String(principal)}`);
  }
}

/** Starts a local Entra ID. Always `await entra.close()` (e.g. in afterAll). */
export function startLocalEntra(options?: LocalEntraOptions): Promise<LocalEntra> {
  return LocalEntra._start(options);
}

function mustGet(listeners: Map<ListenerName, Listener>, name: ListenerName): Listener {
  const listener = listeners.get(name);
  if (!listener) throw new Error(`listener ${name} missing`);
  return listener;
}

function epochSeconds(value: number | Date): number {
  return value instanceof Date ? Math.floor(value.getTime() / 1000) : value;
}

function failNoPrevious(): never {
  throw new Error("mintAccessToken: signWith 'previous' needs a rotateSigningKey() first");
}
