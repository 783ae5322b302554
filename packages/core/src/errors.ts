// Named errors with `cause`. Tests use the `isXxxError` helpers, which compare `name` rather than
// `instanceof`, so they work across duplicate installs of this package.
// No error message ever contains a token or a secret.

import { errorName } from "./error-graph.js";
import { displayText, isoTime } from "./redact.js";
import { DEFAULT_SQL_SCOPE } from "./sql-audiences.js";

// A brand shared by every copy of this package (Symbol.for is process-wide), so isEntraSqlError
// recognises errors from a duplicate install without a list of class names to keep in sync.
const BRAND = Symbol.for("@entra-sql/core.error");

/** Base class of every error this package throws. */
export class EntraSqlError extends Error {
  override name = "EntraSqlError";
  declare readonly [BRAND]: true;
  static {
    Object.defineProperty(EntraSqlError.prototype, BRAND, { value: true });
  }
}

/** An option failed validation when the token source (or a policy) was created. */
export class InvalidOptionError extends EntraSqlError {
  override name = "InvalidOptionError";
  constructor(
    /** Dotted path of the option, e.g. `refreshWindowInMs` or `credential[1]`. */
    readonly option: string,
    /** A printable, secret-free rendering of the bad value (redact.ts `printable`). */
    readonly value: string,
    /** What a valid value looks like. */
    readonly expected: string,
    /** `packageName`: the package the option belongs to (the adapters pass theirs). Default core. */
    options?: { packageName?: string; cause?: unknown },
  ) {
    super(
      `${options?.packageName ?? "@entra-sql/core"}: option "${option}" is ${value}; expected ${expected}.`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/**
 * An adapter's InvalidOptionError factory: core's error (so `isInvalidOptionError` and `instanceof`
 * work) with the adapter's package name in front of the message, since the option belongs to it.
 * @example const invalidOption = invalidOptionFor("@entra-sql/knex");
 */
export function invalidOptionFor(
  packageName: string,
): (option: string, value: string, expected: string, cause?: unknown) => InvalidOptionError {
  return (option, value, expected, cause) =>
    new InvalidOptionError(option, value, expected, { packageName, cause });
}

/**
 * A token was requested for a scope outside the allow-list (a rogue server, or a misconfiguration).
 * A server may choose the scope: `scope` (and so the message) is it made safe to show, cut short,
 * without control characters and without anything that looks like a token.
 */
export class ScopeNotAllowedError extends EntraSqlError {
  override name = "ScopeNotAllowedError";
  /** The refused scope as displayText shows it. */
  readonly scope: string;
  constructor(
    scope: string,
    readonly allowedScopes: readonly string[],
  ) {
    const shown = displayText(String(scope));
    super(
      `@entra-sql/core: refused to get a token for scope "${shown}": it is not an allowed SQL audience ` +
        `(${allowedScopes.join(", ")}). If this server is genuine, add its scope to the "allowedScopes" option.`,
    );
    this.scope = shown;
  }
}

/** A server host name whose cloud (and so token scope) is not known. */
export class UnknownSqlHostError extends EntraSqlError {
  override name = "UnknownSqlHostError";
  /** The host as given, made safe to show (displayText). */
  readonly host: string;
  constructor(host: string) {
    const shown = displayText(String(host));
    super(
      `@entra-sql/core: cannot tell the token scope for server "${shown}": its suffix is not a known Azure SQL ` +
        `endpoint. Pass the scope explicitly (option "scope", e.g. "${DEFAULT_SQL_SCOPE}").`,
    );
    this.host = shown;
  }
}

/**
 * How a credential source failed:
 * - `"unavailable"`: not configured here (no `az login`, no managed identity, variables unset), or
 *   set up so that it cannot work here (the identity endpoint's TLS certificate is not trusted;
 *   instance discovery fails for an authority that is not Microsoft's); the fix says which. The chain
 *   moves on.
 * - `"authentication"`: it tried and was refused (a wrong or expired secret, an unknown app, a
 *   disabled user, ...). The chain leaves the source out of its next walks for a while.
 * - `"transient"`: the identity provider (Entra ID's token endpoint, or a managed identity endpoint)
 *   could not be reached or failed right now: HTTP 5xx or 429, a refused, reset or timed-out
 *   connection, a failed DNS lookup. Nothing was refused, nothing needs changing if it passes; the
 *   next request for a token tries again.
 */
export type SourceFailureKind = "unavailable" | "authentication" | "transient";

/** Why one credential source failed, as reported in a {@link TokenAcquisitionError}. */
export interface SourceFailure {
  /** The source's name, e.g. "AzureCliCredential". */
  source: string;
  kind: SourceFailureKind;
  /** The source's own message (secret-free). */
  message: string;
  /** What a person would try next, e.g. "Run `az login`."; absent when nothing specific is known. */
  fix?: string;
}

/** No credential source produced a token. Lists every source tried, why it failed, and what to do. */
export class TokenAcquisitionError extends EntraSqlError {
  override name = "TokenAcquisitionError";
  /** Until when the token cached for this scope was (or is) valid; absent when there was none. */
  declare readonly cachedTokenExpiresOnTimestamp?: number;
  constructor(
    readonly scope: string,
    readonly failures: readonly SourceFailure[],
    options?: { cause?: unknown; cachedTokenExpiresOnTimestamp?: number | undefined },
  ) {
    super(
      formatAcquisitionMessage(scope, failures, options?.cachedTokenExpiresOnTimestamp),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    const expiry = options?.cachedTokenExpiresOnTimestamp;
    if (expiry !== undefined) this.cachedTokenExpiresOnTimestamp = expiry;
  }
}

function formatAcquisitionMessage(
  scope: string,
  failures: readonly SourceFailure[],
  cachedTokenExpiresOnTimestamp: number | undefined,
): string {
  const lines = failures.map(
    (f) => `  - ${f.source} (${f.kind}): ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ""}`,
  );
  // An outage: some source could not reach the identity provider, and none was refused.
  const outage =
    failures.some((f) => f.kind === "transient") && !failures.some((f) => f.kind === "authentication");
  const parts = [
    `@entra-sql/core: could not get a token for "${scope}"` +
      (outage
        ? ": the identity provider is unreachable or failing right now (no credential was refused)."
        : "."),
  ];
  if (cachedTokenExpiresOnTimestamp !== undefined) {
    const until = isoTime(cachedTokenExpiresOnTimestamp);
    parts.push(
      cachedTokenExpiresOnTimestamp > Date.now()
        ? `The last token for this scope is valid until ${until}.`
        : `The last token for this scope expired at ${until}.`,
    );
  }
  if (outage) parts.push("The next request for a token tries again.");
  parts.push(lines.length === 0 ? "No source was tried." : `Sources tried:\n${lines.join("\n")}`);
  return parts.join(" ");
}

const hasName = (error: unknown, name: string): boolean => errorName(error) === name;

export const isEntraSqlError = (error: unknown): error is EntraSqlError =>
  typeof error === "object" && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
export const isInvalidOptionError = (error: unknown): error is InvalidOptionError =>
  hasName(error, "InvalidOptionError");
export const isScopeNotAllowedError = (error: unknown): error is ScopeNotAllowedError =>
  hasName(error, "ScopeNotAllowedError");
export const isUnknownSqlHostError = (error: unknown): error is UnknownSqlHostError =>
  hasName(error, "UnknownSqlHostError");
export const isTokenAcquisitionError = (error: unknown): error is TokenAcquisitionError =>
  hasName(error, "TokenAcquisitionError");
