import { type KeyObject, X509Certificate } from "node:crypto";
import { inspect } from "node:util";
import { newClientSecret, newGuid, secretEquals, sha256 } from "./ids.js";

// The identities the local Entra ID knows: users, app registrations (with their service principals)
// and managed identities, grouped by tenant. The directory stores no usable secret: a client secret
// is kept only as its SHA-256 digest, so nothing reachable from the IdP object can leak it.

export type PrincipalKind = "user" | "app" | "managedIdentity";
export type ManagedIdentityAssignment = "system" | "user";

/** A federated identity credential on an app registration (workload identity federation). */
export interface FederatedCredential {
  /** Issuer URL, compared exactly (Entra matches case-sensitively). */
  issuer: string;
  /** Subject, compared exactly, e.g. `system:serviceaccount:default:my-app`. */
  subject: string;
  /** Accepted audiences; default `["api://AzureADTokenExchange"]`. */
  audiences: readonly string[];
  name: string;
}

export interface FederatedCredentialInput {
  issuer: string;
  subject: string;
  /** One audience or several; default `api://AzureADTokenExchange`. */
  audience?: string | readonly string[];
  name?: string;
}

/** Anything carrying a PEM certificate: an `IssuedCertificate` from the local CA fits. */
export interface CertificateInput {
  certificatePem: string;
}

export interface RegisteredUser {
  readonly kind: "user";
  readonly objectId: string;
  readonly upn: string;
  readonly displayName: string;
  readonly tenantId: string;
}

export interface RegisteredApp {
  readonly kind: "app";
  /** The application (client) id. */
  readonly clientId: string;
  /** The service principal's object id: the `oid` in the app's tokens. */
  readonly objectId: string;
  /** The application object's id (distinct from both of the above, as in Entra). */
  readonly applicationObjectId: string;
  readonly displayName: string;
  readonly tenantId: string;
  /**
   * The client secret when one was registered. Non-enumerable: `JSON.stringify`, `util.inspect` and
   * test-runner diffs of this object do not show it.
   */
  readonly clientSecret?: string;
  /** SHA-1 thumbprints (upper-case hex) of the registered certificates. */
  readonly certificateThumbprints: readonly string[];
  readonly federatedCredentials: readonly FederatedCredential[];
}

export interface RegisteredManagedIdentity {
  readonly kind: "managedIdentity";
  readonly assignment: ManagedIdentityAssignment;
  readonly clientId: string;
  /** The service principal's object id (the "principal id" in the portal): `oid` in its tokens. */
  readonly objectId: string;
  /** Azure resource id: the site/VM for system-assigned, the identity resource for user-assigned. */
  readonly resourceId: string;
  readonly displayName: string;
  readonly tenantId: string;
}

export type RegisteredPrincipal = RegisteredUser | RegisteredApp | RegisteredManagedIdentity;

/** What a lookup by name or object id returns (the SQL stand-in's view of a principal). */
export interface PrincipalInfo {
  kind: PrincipalKind;
  objectId: string;
  displayName: string;
  tenantId: string;
  enabled: boolean;
  /** Apps and managed identities. */
  clientId?: string;
  /** Users. */
  upn?: string;
  /** Managed identities. */
  assignment?: ManagedIdentityAssignment;
  resourceId?: string;
}

/** A principal given by object id, client id, UPN or resource id, or a registration result. */
export type PrincipalRef = string | { readonly objectId: string };

/** `findPrincipalByName` matched more than one principal (SQL refuses duplicate display names). */
export class AmbiguousPrincipalError extends Error {
  override readonly name = "AmbiguousPrincipalError";
  constructor(
    readonly principalName: string,
    readonly matches: readonly PrincipalInfo[],
  ) {
    super(
      `Principal '${principalName}' matches ${matches.length} principals: the display name is not unique`,
    );
  }
}

// ---- internal records -------------------------------------------------------------------------

export interface CertificateRecord {
  thumbprintSha1Hex: string;
  /** base64url SHA-1 of the DER: the `x5t` JWT header. */
  x5t: string;
  /** base64url SHA-256 of the DER: the `x5t#S256` JWT header. */
  x5tS256: string;
  publicKey: KeyObject;
}

export interface UserRecord {
  kind: "user";
  objectId: string;
  upn: string;
  displayName: string;
  tenantId: string;
  enabled: boolean;
}

export interface AppRecord {
  kind: "app";
  clientId: string;
  objectId: string;
  applicationObjectId: string;
  displayName: string;
  tenantId: string;
  enabled: boolean;
  secretDigests: Buffer[];
  certificates: CertificateRecord[];
  federatedCredentials: FederatedCredential[];
}

export interface ManagedIdentityRecord {
  kind: "managedIdentity";
  assignment: ManagedIdentityAssignment;
  clientId: string;
  objectId: string;
  resourceId: string;
  displayName: string;
  tenantId: string;
  enabled: boolean;
}

export type PrincipalRecord = UserRecord | AppRecord | ManagedIdentityRecord;

export interface RegisterUserOptions {
  upn: string;
  displayName?: string;
  objectId?: string;
  tenantId?: string;
}

export interface RegisterAppOptions {
  displayName: string;
  /** A secret to register, or `true` to generate one (returned as `clientSecret`). */
  clientSecret?: string | true;
  certificate?: CertificateInput;
  certificates?: readonly CertificateInput[];
  federatedCredentials?: readonly FederatedCredentialInput[];
  clientId?: string;
  objectId?: string;
  tenantId?: string;
}

export interface RegisterManagedIdentityOptions {
  displayName: string;
  kind: ManagedIdentityAssignment;
  resourceId?: string;
  clientId?: string;
  objectId?: string;
  tenantId?: string;
}

/** Which identity a managed-identity request names (at most one of these). */
export interface ManagedIdentitySelector {
  clientId?: string;
  resourceId?: string;
  objectId?: string;
}

export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

export class Directory {
  readonly defaultTenantId: string;
  /** The subscription the fake resources (and the fake az CLI account) live in. */
  readonly subscriptionId = newGuid();
  readonly #tenants = new Set<string>();
  readonly #byObjectId = new Map<string, PrincipalRecord>();

  constructor(defaultTenantId: string) {
    this.defaultTenantId = defaultTenantId.toLowerCase();
    this.#tenants.add(this.defaultTenantId);
  }

  addTenant(tenantId: string = newGuid()): string {
    const id = tenantId.toLowerCase();
    this.#tenants.add(id);
    return id;
  }

  hasTenant(tenantId: string): boolean {
    return this.#tenants.has(tenantId.toLowerCase());
  }

  get tenantIds(): readonly string[] {
    return [...this.#tenants];
  }

  registerUser(options: RegisterUserOptions): RegisteredUser {
    const tenantId = this.#tenant(options.tenantId);
    if (!options.upn.includes("@")) throw new TypeError(`registerUser: '${options.upn}' is not a UPN`);
    const upnTaken = [...this.#records("user")].some((u) => sameText(u.upn, options.upn));
    if (upnTaken) throw new Error(`registerUser: a user with UPN '${options.upn}' already exists`);
    const record: UserRecord = {
      kind: "user",
      objectId: this.#freshObjectId(options.objectId),
      upn: options.upn,
      displayName: options.displayName ?? options.upn.split("@")[0] ?? options.upn,
      tenantId,
      enabled: true,
    };
    this.#byObjectId.set(record.objectId, record);
    return publicUser(record);
  }

  registerApp(options: RegisterAppOptions): RegisteredApp {
    const tenantId = this.#tenant(options.tenantId);
    const clientId = (options.clientId ?? newGuid()).toLowerCase();
    if (this.#findByClientId(clientId))
      throw new Error(`registerApp: client id ${clientId} is already registered`);
    const secret = options.clientSecret === true ? newClientSecret() : options.clientSecret;
    if (secret !== undefined && secret.length === 0)
      throw new TypeError("registerApp: clientSecret is empty");
    const certificates = [
      ...(options.certificate ? [options.certificate] : []),
      ...(options.certificates ?? []),
    ].map(certificateRecord);
    const record: AppRecord = {
      kind: "app",
      clientId,
      objectId: this.#freshObjectId(options.objectId),
      applicationObjectId: newGuid(),
      displayName: options.displayName,
      tenantId,
      enabled: true,
      secretDigests: secret === undefined ? [] : [sha256(secret)],
      certificates,
      federatedCredentials: (options.federatedCredentials ?? []).map(federatedCredential),
    };
    this.#byObjectId.set(record.objectId, record);
    return publicApp(record, secret);
  }

  registerManagedIdentity(options: RegisterManagedIdentityOptions): RegisteredManagedIdentity {
    const tenantId = this.#tenant(options.tenantId);
    if (options.kind !== "system" && options.kind !== "user") {
      throw new TypeError(
        `registerManagedIdentity: kind must be "system" or "user", got ${String(options.kind)}`,
      );
    }
    if (options.kind === "system" && this.#systemAssigned()) {
      // One host (VM, App Service) has at most one system-assigned identity; this IdP models one host.
      throw new Error("registerManagedIdentity: a system-assigned identity is already registered");
    }
    const clientId = (options.clientId ?? newGuid()).toLowerCase();
    if (this.#findByClientId(clientId)) {
      throw new Error(`registerManagedIdentity: client id ${clientId} is already registered`);
    }
    const slug = options.displayName.replace(/[^A-Za-z0-9-]/g, "-");
    const resourceId =
      options.resourceId ??
      (options.kind === "system"
        ? `/subscriptions/${this.subscriptionId}/resourceGroups/local-entra/providers/Microsoft.Web/sites/${slug}`
        : `/subscriptions/${this.subscriptionId}/resourceGroups/local-entra/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${slug}`);
    if ([...this.#records("managedIdentity")].some((m) => sameText(m.resourceId, resourceId))) {
      throw new Error(`registerManagedIdentity: resource id ${resourceId} is already registered`);
    }
    const record: ManagedIdentityRecord = {
      kind: "managedIdentity",
      assignment: options.kind,
      clientId,
      objectId: this.#freshObjectId(options.objectId),
      resourceId,
      displayName: options.displayName,
      tenantId,
      enabled: true,
    };
    this.#byObjectId.set(record.objectId, record);
    return publicManagedIdentity(record);
  }

  /** Replaces an app's client secrets with one new secret (given or generated) and returns it. */
  resetClientSecret(ref: PrincipalRef, secret: string = newClientSecret()): string {
    const record = this.resolve(ref);
    if (record.kind !== "app") throw new TypeError("resetClientSecret: not an app registration");
    record.secretDigests = [sha256(secret)];
    return secret;
  }

  /**
   * Resolves a principal the way `CREATE USER [name] FROM EXTERNAL PROVIDER` does: a user by UPN,
   * an app or managed identity by display name (both case-insensitive). Revoked principals are gone;
   * disabled ones are still found (with `enabled: false`). Throws `AmbiguousPrincipalError` when a
   * display name is shared, as Azure SQL refuses those.
   */
  findPrincipalByName(name: string, tenantId?: string): PrincipalInfo | undefined {
    const tenant = tenantId?.toLowerCase();
    const matches = [...this.#byObjectId.values()].filter((record) => {
      if (tenant !== undefined && record.tenantId !== tenant) return false;
      return record.kind === "user" ? sameText(record.upn, name) : sameText(record.displayName, name);
    });
    if (matches.length > 1) throw new AmbiguousPrincipalError(name, matches.map(principalInfo));
    const match = matches[0];
    return match ? principalInfo(match) : undefined;
  }

  findPrincipalByObjectId(objectId: string): PrincipalInfo | undefined {
    const record = this.#byObjectId.get(objectId.toLowerCase());
    return record ? principalInfo(record) : undefined;
  }

  /** Every principal (for diagnostics and the stand-ins' listings). */
  listPrincipals(): PrincipalInfo[] {
    return [...this.#byObjectId.values()].map(principalInfo);
  }

  /** The record for a reference, or throws: tests name principals they registered. */
  resolve(ref: PrincipalRef): PrincipalRecord {
    const record = this.tryResolve(ref);
    if (!record) throw new Error(`Unknown principal: ${typeof ref === "string" ? ref : ref.objectId}`);
    return record;
  }

  tryResolve(ref: PrincipalRef): PrincipalRecord | undefined {
    if (typeof ref !== "string") return this.#byObjectId.get(ref.objectId.toLowerCase());
    const byObjectId = this.#byObjectId.get(ref.toLowerCase());
    if (byObjectId) return byObjectId;
    for (const record of this.#byObjectId.values()) {
      if (record.kind === "user" && sameText(record.upn, ref)) return record;
      if (record.kind !== "user" && sameText(record.clientId, ref)) return record;
      if (record.kind === "managedIdentity" && sameText(record.resourceId, ref)) return record;
    }
    return undefined;
  }

  /** Disabled principals keep their registration but get no new tokens (AADSTS7000112, 50057). */
  disable(ref: PrincipalRef): void {
    this.resolve(ref).enabled = false;
  }

  enable(ref: PrincipalRef): void {
    this.resolve(ref).enabled = true;
  }

  /** Deletes the principal: the next token request fails as for an unknown one. */
  revoke(ref: PrincipalRef): void {
    this.#byObjectId.delete(this.resolve(ref).objectId);
  }

  appByClientId(clientId: string): AppRecord | undefined {
    const record = this.#findByClientId(clientId);
    return record?.kind === "app" ? record : undefined;
  }

  userByUpn(upn: string): UserRecord | undefined {
    return [...this.#records("user")].find((u) => sameText(u.upn, upn));
  }

  /**
   * The managed identity a request selects. No selector: the system-assigned identity; over IMDS a
   * host with no system-assigned identity and exactly one user-assigned identity uses that one (the
   * IMDS documentation makes `client_id` optional in that case). App Service does not do this.
   */
  selectManagedIdentity(
    selector: ManagedIdentitySelector,
    protocol: "imds" | "appService",
  ): ManagedIdentityRecord | undefined {
    const identities = [...this.#records("managedIdentity")];
    if (selector.clientId !== undefined)
      return identities.find((m) => sameText(m.clientId, selector.clientId));
    if (selector.resourceId !== undefined) {
      return identities.find((m) => sameText(m.resourceId, selector.resourceId));
    }
    if (selector.objectId !== undefined)
      return identities.find((m) => sameText(m.objectId, selector.objectId));
    const system = identities.find((m) => m.assignment === "system");
    if (system || protocol === "appService") return system;
    const userAssigned = identities.filter((m) => m.assignment === "user");
    return userAssigned.length === 1 ? userAssigned[0] : undefined;
  }

  verifyClientSecret(app: AppRecord, candidate: string): boolean {
    // Compare against every digest without stopping early (no timing hint about which one matched).
    let matched = false;
    for (const digest of app.secretDigests) matched = secretEquals(candidate, digest) || matched;
    return matched;
  }

  toJSON(): object {
    return { tenants: this.tenantIds, principals: this.#byObjectId.size };
  }

  [inspect.custom](): object {
    return this.toJSON();
  }

  #tenant(tenantId: string | undefined): string {
    const id = (tenantId ?? this.defaultTenantId).toLowerCase();
    if (!this.#tenants.has(id)) throw new Error(`Unknown tenant ${id}: call addTenant() first`);
    return id;
  }

  #freshObjectId(requested: string | undefined): string {
    const id = (requested ?? newGuid()).toLowerCase();
    if (this.#byObjectId.has(id)) throw new Error(`Object id ${id} is already in use`);
    return id;
  }

  #findByClientId(clientId: string): AppRecord | ManagedIdentityRecord | undefined {
    for (const record of this.#byObjectId.values()) {
      if (record.kind !== "user" && sameText(record.clientId, clientId)) return record;
    }
    return undefined;
  }

  #systemAssigned(): ManagedIdentityRecord | undefined {
    return [...this.#records("managedIdentity")].find((m) => m.assignment === "system");
  }

  *#records<K extends PrincipalKind>(kind: K): Generator<Extract<PrincipalRecord, { kind: K }>> {
    for (const record of this.#byObjectId.values()) {
      if (record.kind === kind) yield record as Extract<PrincipalRecord, { kind: K }>;
    }
  }
}

export function principalInfo(record: PrincipalRecord): PrincipalInfo {
  const base = {
    kind: record.kind,
    objectId: record.objectId,
    displayName: record.displayName,
    tenantId: record.tenantId,
    enabled: record.enabled,
  };
  switch (record.kind) {
    case "user":
      return { ...base, upn: record.upn };
    case "app":
      return { ...base, clientId: record.clientId };
    case "managedIdentity":
      return {
        ...base,
        clientId: record.clientId,
        assignment: record.assignment,
        resourceId: record.resourceId,
      };
  }
}

/** The key counters and the request log use for a principal: UPN for users, client id otherwise. */
export function identityKey(record: PrincipalRecord): string {
  return record.kind === "user" ? record.upn : record.clientId;
}

function sameText(a: string, b: string | undefined): boolean {
  return b !== undefined && a.toLowerCase() === b.toLowerCase();
}

function certificateRecord(input: CertificateInput): CertificateRecord {
  const certificate = new X509Certificate(input.certificatePem);
  const sha1 = Buffer.from(certificate.fingerprint.replaceAll(":", ""), "hex");
  const sha256Digest = Buffer.from(certificate.fingerprint256.replaceAll(":", ""), "hex");
  return {
    thumbprintSha1Hex: sha1.toString("hex").toUpperCase(),
    x5t: sha1.toString("base64url"),
    x5tS256: sha256Digest.toString("base64url"),
    publicKey: certificate.publicKey,
  };
}

function federatedCredential(input: FederatedCredentialInput, index: number): FederatedCredential {
  if (!input.issuer || !input.subject) throw new TypeError("federated credential needs issuer and subject");
  const audience = input.audience ?? TOKEN_EXCHANGE_AUDIENCE;
  return {
    issuer: input.issuer,
    subject: input.subject,
    audiences: typeof audience === "string" ? [audience] : [...audience],
    name: input.name ?? `federated-credential-${index + 1}`,
  };
}

function publicUser(record: UserRecord): RegisteredUser {
  return Object.freeze({
    kind: "user",
    objectId: record.objectId,
    upn: record.upn,
    displayName: record.displayName,
    tenantId: record.tenantId,
  });
}

function publicApp(record: AppRecord, secret: string | undefined): RegisteredApp {
  const app = {
    kind: "app" as const,
    clientId: record.clientId,
    objectId: record.objectId,
    applicationObjectId: record.applicationObjectId,
    displayName: record.displayName,
    tenantId: record.tenantId,
    certificateThumbprints: record.certificates.map((c) => c.thumbprintSha1Hex),
    federatedCredentials: record.federatedCredentials.map((f) => ({ ...f })),
  };
  if (secret !== undefined) {
    Object.defineProperty(app, "clientSecret", { value: secret, enumerable: false });
  }
  return Object.freeze(app);
}

function publicManagedIdentity(record: ManagedIdentityRecord): RegisteredManagedIdentity {
  return Object.freeze({
    kind: "managedIdentity",
    assignment: record.assignment,
    clientId: record.clientId,
    objectId: record.objectId,
    resourceId: record.resourceId,
    displayName: record.displayName,
    tenantId: record.tenantId,
  });
}
