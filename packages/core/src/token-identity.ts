import { errorName } from "./error-graph.js";
import { EntraSqlError, InvalidOptionError } from "./errors.js";
import { printable } from "./redact.js";

// Who an access token speaks for, read from its payload (decoded, NOT verified: only the server and
// Entra can vouch for a token), and the T-SQL a DBA runs to let that identity into a database: the
// first step of the Django recipe (`CREATE USER [...] FROM EXTERNAL PROVIDER;` + default schema).

/** The kind of principal a token was issued to. */
export type PrincipalKind = "user" | "service-principal" | "managed-identity";

/** What a token says about its principal. Holds no token and no signature; safe to log. */
export interface TokenIdentity {
  readonly kind: PrincipalKind;
  /** `oid`: the principal's object ID (for apps and managed identities, the service principal's). */
  readonly objectId: string;
  /** `tid`. */
  readonly tenantId: string;
  /** `upn` (or `unique_name` when it is a plain UPN); users only. Absent for guests without one. */
  readonly userPrincipalName?: string;
  /** `appid` (v1) or `azp` (v2): for users the client app signed in with, else the principal's client ID. */
  readonly appId?: string;
  /** `name` (users), or `name` / `app_displayname` (apps). Often absent in app-only tokens. */
  readonly displayName?: string;
  /** `aud`, e.g. `https://database.windows.net/`. */
  readonly audience: string;
  /** `iss`, e.g. `https://sts.windows.net/{tid}/`. */
  readonly issuer: string;
  /** `exp`. */
  readonly expiresOn: Date;
  /** `iat`: when Entra ID issued the token (by Entra's clock); absent when the token has no `iat`. */
  readonly issuedAt?: Date;
  /** `nbf`: the token is not valid before this time; absent when the token has no `nbf`. */
  readonly notBefore?: Date;
  /** `xms_mirid`: the Azure resource ID of a managed identity. */
  readonly managedIdentityResourceId?: string;
}

/** The string given is not a readable JWT access token. The message never contains the token. */
export class MalformedAccessTokenError extends EntraSqlError {
  override name = "MalformedAccessTokenError";
  constructor(readonly reason: string) {
    super(`@entra-sql/core: cannot read the access token: ${reason}.`);
  }
}

export const isMalformedAccessTokenError = (error: unknown): error is MalformedAccessTokenError =>
  errorName(error) === "MalformedAccessTokenError";

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Decodes (does not verify) an Entra access token and describes its principal.
 * Throws {@link MalformedAccessTokenError} when it is not a JWS with a JSON payload carrying
 * `oid`, `tid`, `aud`, `iss` and `exp`.
 * @example describeToken((await credential.getToken(scope)).token).userPrincipalName
 */
export function describeToken(token: string): TokenIdentity {
  const claims = decodePayload(token);
  const objectId = requiredString(claims, "oid");
  const tenantId = requiredString(claims, "tid");
  const issuer = requiredString(claims, "iss");
  const audience = audienceOf(claims.aud);
  const exp = claims.exp;
  if (typeof exp !== "number" || !Number.isFinite(exp))
    throw new MalformedAccessTokenError('claim "exp" is missing or not a number');

  const upn = optionalString(claims, "upn");
  const uniqueName = optionalString(claims, "unique_name");
  const managedIdentityResourceId = optionalString(claims, "xms_mirid");
  const kind = kindOf(claims, managedIdentityResourceId);
  const name = optionalString(claims, "name");
  const displayName = kind === "user" ? name : (name ?? optionalString(claims, "app_displayname"));
  // `unique_name` of a guest is "live.com#bob@outlook.com": not a UPN CREATE USER would accept.
  const userPrincipalName =
    kind !== "user"
      ? undefined
      : (upn ?? (uniqueName !== undefined && !uniqueName.includes("#") ? uniqueName : undefined));
  const appId = optionalString(claims, "appid") ?? optionalString(claims, "azp");
  const issuedAt = optionalTime(claims, "iat");
  const notBefore = optionalTime(claims, "nbf");

  const identity: TokenIdentity = {
    kind,
    objectId,
    tenantId,
    ...(userPrincipalName !== undefined && { userPrincipalName }),
    ...(appId !== undefined && { appId }),
    ...(displayName !== undefined && { displayName }),
    audience,
    issuer,
    expiresOn: new Date(exp * 1000),
    ...(issuedAt !== undefined && { issuedAt }),
    ...(notBefore !== undefined && { notBefore }),
    ...(managedIdentityResourceId !== undefined && { managedIdentityResourceId }),
  };
  return Object.freeze(identity);
}

export interface CreateUserStatementOptions {
  /** Database roles to add the user to. Default `["db_datareader", "db_datawriter"]`; `[]` for none. */
  roles?: readonly string[];
  /**
   * The database user name. Default: the UPN for users, the display name for apps and managed
   * identities; when that is unknown, an alias (see {@link createUserStatement}).
   */
  name?: string;
  /** `ALTER USER ... WITH DEFAULT_SCHEMA`. Default `"dbo"` (as the Django recipe); `null` to skip. */
  defaultSchema?: string | null;
  /**
   * Create the user by object ID (`WITH OBJECT_ID = '<oid>'`) instead of by directory name.
   * Default: only when the user name is not the principal's own directory name (a custom `name`, or
   * a display name the token does not carry).
   */
  withObjectId?: boolean;
}

const STATEMENT_OPTION_KEYS = ["roles", "name", "defaultSchema", "withObjectId"] as const;
const DEFAULT_ROLES = ["db_datareader", "db_datawriter"] as const;

/**
 * The T-SQL that lets this identity into a database, run by a Microsoft Entra admin of the server in
 * that database: `CREATE USER ... FROM EXTERNAL PROVIDER`, the default schema, then one
 * `ALTER ROLE ... ADD MEMBER` per role.
 *
 * Naming: `CREATE USER [x] FROM EXTERNAL PROVIDER` looks `x` up in Microsoft Entra ID: the UPN for
 * users, the display name for groups, apps and managed identities (Microsoft Learn, CREATE USER
 * (Transact-SQL), "Microsoft_Entra_principal"). App-only tokens usually carry no display name, and
 * display names of service principals need not be unique (error 33131), so then the user is created
 * `WITH OBJECT_ID = '<oid>'` under an alias. That form takes the OBJECT ID of the service principal
 * (the Enterprise application), not the app registration's object ID nor the client ID (Microsoft
 * Learn, "Microsoft Entra logins and users with nonunique display names", MicrosoftDocs/sql-docs
 * docs/relational-databases/security/authentication-access/authentication-microsoft-entra-create-
 * users-with-nonunique-names.md), and a token's `oid` is exactly that object ID. The same page
 * recommends an alias of the principal's name plus a suffix from the object ID. `WITH OBJECT_ID` is
 * supported by Azure SQL Database, Azure SQL Managed Instance, SQL database in Fabric and SQL Server
 * 2025+; that page does not list Synapse or Fabric Warehouse: pass `withObjectId: false` and a
 * `name` there.
 *
 * Default aliases: a managed identity's resource name (the last segment of `xms_mirid`, which is
 * also its display name) + `-` + the first 5 characters of the object ID; `app-<appId>` for other
 * apps; the display name (else `user`) + the suffix for users without a UPN.
 * Names are bracket-quoted with `]` doubled.
 * @example
 * createUserStatement(describeToken(token))
 * // CREATE USER [bob@contoso.com] FROM EXTERNAL PROVIDER;
 * // ALTER USER [bob@contoso.com] WITH DEFAULT_SCHEMA=[dbo];
 * // ALTER ROLE [db_datareader] ADD MEMBER [bob@contoso.com];
 * // ALTER ROLE [db_datawriter] ADD MEMBER [bob@contoso.com];
 */
export function createUserStatement(
  identity: TokenIdentity,
  options: CreateUserStatementOptions = {},
): string {
  const { roles, name: customName, defaultSchema, withObjectId } = validateStatementOptions(options);
  const directoryName = identity.kind === "user" ? identity.userPrincipalName : identity.displayName;
  const name = customName ?? directoryName ?? defaultAlias(identity);
  const byObjectId = withObjectId ?? name !== directoryName;
  if (byObjectId && !GUID.test(identity.objectId)) {
    throw new InvalidOptionError(
      "identity.objectId",
      JSON.stringify(identity.objectId),
      "a GUID (the token's oid claim)",
    );
  }
  const user = quoteName(name);
  const lines = [
    `CREATE USER ${user} FROM EXTERNAL PROVIDER${byObjectId ? ` WITH OBJECT_ID = '${identity.objectId}'` : ""};`,
  ];
  if (defaultSchema !== null)
    lines.push(`ALTER USER ${user} WITH DEFAULT_SCHEMA=${quoteName(defaultSchema)};`);
  for (const role of roles) lines.push(`ALTER ROLE ${quoteName(role)} ADD MEMBER ${user};`);
  return lines.join("\n");
}

/** `[name]` with `]` doubled: a delimited T-SQL identifier. */
export function quoteName(name: string): string {
  return `[${name.replace(/]/g, "]]")}]`;
}

function defaultAlias(identity: TokenIdentity): string {
  const suffix = identity.objectId.slice(0, 5);
  switch (identity.kind) {
    case "managed-identity": {
      const resourceName = identity.managedIdentityResourceId?.split("/").filter(Boolean).pop();
      return resourceName ? `${resourceName}-${suffix}` : `managed-identity-${suffix}`;
    }
    case "service-principal":
      return identity.appId ? `app-${identity.appId}` : `app-${suffix}`;
    case "user":
      return `${identity.displayName ?? "user"}-${suffix}`;
  }
}

interface StatementSettings {
  roles: readonly string[];
  name: string | undefined;
  defaultSchema: string | null;
  withObjectId: boolean | undefined;
}

function validateStatementOptions(options: CreateUserStatementOptions): StatementSettings {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOptionError("options", printable(options), "an object or undefined");
  }
  for (const key of Object.keys(options)) {
    if (!(STATEMENT_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(key, "an unknown option", `one of ${STATEMENT_OPTION_KEYS.join(", ")}`);
    }
  }
  const roles = options.roles ?? DEFAULT_ROLES;
  if (!Array.isArray(roles))
    throw new InvalidOptionError("roles", printable(roles), "a list of database role names");
  roles.forEach((role: unknown, index) => {
    if (!isSysname(role))
      throw new InvalidOptionError(`roles[${index}]`, printable(role), "a role name of 1-128 characters");
  });
  if (options.name !== undefined && !isSysname(options.name)) {
    throw new InvalidOptionError("name", printable(options.name), "a user name of 1-128 characters");
  }
  const defaultSchema = options.defaultSchema === undefined ? "dbo" : options.defaultSchema;
  if (defaultSchema !== null && !isSysname(defaultSchema)) {
    throw new InvalidOptionError(
      "defaultSchema",
      printable(defaultSchema),
      "a schema name of 1-128 characters, or null",
    );
  }
  if (options.withObjectId !== undefined && typeof options.withObjectId !== "boolean") {
    throw new InvalidOptionError("withObjectId", printable(options.withObjectId), "true or false");
  }
  return { roles, name: options.name, defaultSchema, withObjectId: options.withObjectId };
}

/** A T-SQL `sysname`: 1 to 128 characters, no NUL. */
function isSysname(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 128 && !value.includes("\u0000");
}

/** The claims of a JWT, decoded, not verified; a MalformedAccessTokenError (never quoting the token) otherwise. */
export function decodePayload(token: string): Record<string, unknown> {
  if (typeof token !== "string" || token.length === 0)
    throw new MalformedAccessTokenError("it is not a non-empty string");
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw new MalformedAccessTokenError(
      `expected a JWT of 3 dot-separated parts, got ${parts.length}${parts.length === 5 ? " (an encrypted token?)" : ""}`,
    );
  }
  const payload = parts[1] ?? "";
  if (!BASE64URL.test(payload)) throw new MalformedAccessTokenError("its payload is not base64url");
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    // Deliberately no `cause`: a JSON SyntaxError quotes the decoded payload text.
    throw new MalformedAccessTokenError("its payload is not JSON");
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw new MalformedAccessTokenError("its payload is not a JSON object");
  }
  return claims as Record<string, unknown>;
}

function requiredString(claims: Record<string, unknown>, claim: string): string {
  const value = claims[claim];
  if (typeof value !== "string" || value.length === 0) {
    throw new MalformedAccessTokenError(`claim "${claim}" is missing or not a string`);
  }
  return value;
}

function optionalString(claims: Record<string, unknown>, claim: string): string | undefined {
  const value = claims[claim];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** A NumericDate claim (epoch seconds) as a Date; undefined when absent or not a finite number. */
function optionalTime(claims: Record<string, unknown>, claim: string): Date | undefined {
  const value = claims[claim];
  return typeof value === "number" && Number.isFinite(value) ? new Date(value * 1000) : undefined;
}

function audienceOf(aud: unknown): string {
  if (typeof aud === "string" && aud.length > 0) return aud;
  if (Array.isArray(aud) && typeof aud[0] === "string" && aud[0].length > 0) return aud[0];
  throw new MalformedAccessTokenError('claim "aud" is missing or not a string');
}

/**
 * `idtyp` says "user" or "app" when present (an optional claim in v1 tokens). Without it: delegated
 * tokens carry `scp` and a user name; app-only tokens carry neither. Managed identities are apps
 * whose token carries `xms_mirid`.
 */
function kindOf(
  claims: Record<string, unknown>,
  managedIdentityResourceId: string | undefined,
): PrincipalKind {
  const idtyp = claims.idtyp;
  const isUser =
    idtyp === "user" ||
    (idtyp !== "app" &&
      (claims.scp !== undefined || claims.upn !== undefined || claims.unique_name !== undefined));
  if (isUser) return "user";
  return managedIdentityResourceId !== undefined ? "managed-identity" : "service-principal";
}
