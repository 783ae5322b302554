// Named errors with `cause`. Tests use the `isXxxError` helpers, which compare `name` rather than
// `instanceof`, so they work across duplicate installs of this package.
// No error message ever contains a token or a secret.

import { displayText } from "./redact.js";
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

/** Why one credential source failed, as reported in a {@link TokenAcquisitionError}. */
export interface SourceFailure {
  /** The source's name, e.g. "AzureCliCredential". */
  source: string;
  /** "unavailable": not configured here (skipped); "authentication": it tried and was refused. */
  kind: "unavailable" | "authentication";
  /** The source's own message (secret-free). */
  message: string;
  /** What a person would try next, e.g. "Run `az login`.". */
  fix: string | undefined;
}

/** No credential source produced a token. Lists every source tried, why it failed, and what to do. */
export class TokenAcquisitionError extends EntraSqlError {
  override name = "TokenAcquisitionError";
  constructor(
    readonly scope: string,
    readonly failures: readonly SourceFailure[],
    options?: { cause?: unknown },
  ) {
    super(formatAcquisitionMessage(scope, failures), options);
  }
}

function formatAcquisitionMessage(scope: string, failures: readonly SourceFailure[]): string {
  const lines = failures.map(
    (f) => `  - ${f.source} (${f.kind}): ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ""}`,
  );
  return `@entra-sql/core: could not get a token for "${scope}". Sources tried:\n${lines.join("\n")}`;
}

const hasName = (error: unknown, name: string): boolean =>
  typeof error === "object" && error !== null && (error as { name?: unknown }).name === name;

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
