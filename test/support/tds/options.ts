import type { SqlEngine } from "../sql-engine/types.js";
import type { CreateUserInput, ResolvePrincipalName } from "./database-users.js";
import type { StandInEventHandler } from "./events.js";
import type { TokenVerificationOptions } from "./token-verifier.js";

// Options of startSqlStandIn, their defaults (one DEFAULTS object) and validation at construction.

export interface SqlStandInOptions {
  /** Interface to bind. Default "127.0.0.1" (loopback only). */
  host?: string;
  /** TCP port. Default 0 (a free port; read it from `standIn.port`). */
  port?: number;
  /**
   * Server certificate for TLS (both TDS 7.x in-PRELOGIN TLS and TDS 8.0 strict). Default: a fresh
   * local CA issues one for localhost/127.0.0.1; its certificate is `standIn.caPem`.
   * Example: `{ certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem, caPem: ca.certificatePem }`.
   */
  tls?: { certificatePem: string; privateKeyPem: string; caPem?: string };
  /**
   * The SQL engine behind the endpoint: an instance (the caller closes it), a factory (called once,
   * on the first request that needs it; the stand-in closes what it created), or null for none (every
   * query then fails with a "not supported" error). Default: the embedded engine
   * (`createSqlEngine({ databaseName: database })` from test/support/sql-engine), booted lazily —
   * a login alone never boots it.
   */
  engine?: SqlEngine | (() => SqlEngine | Promise<SqlEngine>) | null;
  /** Database name announced at login (ENVCHANGE) and accepted in LOGIN7. Default "entra_sql_demo". */
  database?: string;
  /** Server name in ERROR/INFO tokens and in the 40613 text. Default "entra-sql-stand-in". */
  serverName?: string;
  /** Access-token checks. Without it, federated logins fail (reason "fedauth-not-configured"). */
  tokenVerification?: TokenVerificationOptions;
  /**
   * What FEDAUTHINFO announces to token-credential clients. Default SPN "https://database.windows.net/"
   * (clients derive the scope `https://database.windows.net/.default` from it); default STS URL
   * `https://login.microsoftonline.com/{first tenant}/` (or `/common/`).
   */
  fedAuthInfo?: { stsUrl?: string; spn?: string };
  /** The directory lookup behind `CREATE USER [name] FROM EXTERNAL PROVIDER`. */
  resolvePrincipalName?: ResolvePrincipalName;
  /** Database users to create at start (same as calling createUser for each). */
  users?: CreateUserInput[];
  /** SQL authentication logins (user name is case-insensitive, password exact). */
  sqlLogins?: Array<{ userName: string; password: string }>;
  /**
   * Refuse clients that do not offer encryption, like Azure SQL (PRELOGIN answer ENCRYPT_REQ; tedious
   * then fails with "Server requires encryption"). Default false.
   */
  requireEncryption?: boolean;
  /**
   * Server-level firewall rules, as Azure SQL's: a login from an address not listed is refused with
   * error 40615 naming the client's IP address. Default: none (every client may log in). Changeable
   * at runtime (`setFirewall`). Example: `{ allowedAddresses: ["10.0.0.7"] }`.
   */
  firewall?: FirewallRules;
  /** Delay before each response to a client request, in ms. Default 0. Changeable at runtime. */
  latencyMs?: number;
  /** Added to the real clock for token expiry checks, in ms. Default 0. Changeable at runtime. */
  clockOffsetMs?: number;
  /** Observe logins, requests and sessions. Default: silent. */
  onEvent?: StandInEventHandler;
  /**
   * How many login attempts `logins` and ended sessions `closedSessions` keep, the oldest dropped first.
   * Default 10,000. A long run that reads the events instead (the soak) keeps few, so that its memory
   * stays flat and a leak in the code under test shows.
   */
  recordsKept?: number;
}

/** Who may log in: the client IP addresses allowed (exact, IPv4 or IPv6 as the socket reports them). */
export interface FirewallRules {
  allowedAddresses: readonly string[];
}

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  database: "entra_sql_demo",
  serverName: "entra-sql-stand-in",
  spn: "https://database.windows.net/",
  requireEncryption: false,
  latencyMs: 0,
  clockOffsetMs: 0,
  recordsKept: 10_000,
} as const;

const KNOWN_KEYS = new Set<string>([
  "recordsKept",
  "host",
  "port",
  "tls",
  "engine",
  "database",
  "serverName",
  "tokenVerification",
  "fedAuthInfo",
  "resolvePrincipalName",
  "users",
  "sqlLogins",
  "requireEncryption",
  "firewall",
  "latencyMs",
  "clockOffsetMs",
  "onEvent",
]);

export function validateOptions(options: SqlStandInOptions): void {
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new TypeError(`SqlStandIn: unknown option "${key}"`);
  }
  const { port, latencyMs, database, tls, tokenVerification } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError(`SqlStandIn: options.port must be an integer 0-65535, got ${String(port)}`);
  }
  const { recordsKept } = options;
  if (recordsKept !== undefined && (!Number.isInteger(recordsKept) || recordsKept < 0)) {
    throw new TypeError(
      `SqlStandIn: options.recordsKept must be an integer >= 0, got ${String(recordsKept)}`,
    );
  }
  if (latencyMs !== undefined && (!Number.isFinite(latencyMs) || latencyMs < 0)) {
    throw new TypeError(`SqlStandIn: options.latencyMs must be >= 0, got ${String(latencyMs)}`);
  }
  if (database !== undefined && database.trim() === "") {
    throw new TypeError("SqlStandIn: options.database must not be empty");
  }
  validateFirewall(options.firewall);
  if (tls && (!tls.certificatePem?.includes("BEGIN") || !tls.privateKeyPem?.includes("BEGIN"))) {
    throw new TypeError("SqlStandIn: options.tls needs PEM certificatePem and privateKeyPem");
  }
  if (tokenVerification && !/^https?:\/\//.test(tokenVerification.jwksUri ?? "")) {
    throw new TypeError(
      `SqlStandIn: options.tokenVerification.jwksUri must be an http(s) URL, got ${String(tokenVerification.jwksUri)}`,
    );
  }
}

export function validateFirewall(firewall: FirewallRules | undefined): void {
  if (firewall === undefined) return;
  const addresses = firewall?.allowedAddresses;
  if (!Array.isArray(addresses) || addresses.some((a) => typeof a !== "string" || a === "")) {
    throw new TypeError("SqlStandIn: options.firewall.allowedAddresses must be a list of IP addresses");
  }
}

export function defaultStsUrl(tokenVerification: TokenVerificationOptions | undefined): string {
  const tenant = [tokenVerification?.tenantId ?? []].flat()[0];
  return `https://login.microsoftonline.com/${tenant ?? "common"}/`;
}
