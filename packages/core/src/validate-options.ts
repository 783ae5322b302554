import { validateCredentialSpec } from "./credential-presets.js";
import type { CredentialSpec } from "./credential-spec.js";
import { editDistance } from "./edit-distance.js";
import { InvalidOptionError } from "./errors.js";
import type { Logger, TokenSourceEvent } from "./events.js";
import { humanDuration, printable } from "./redact.js";
import { createScopeGuard, type ScopeGuard } from "./scope-guard.js";
import { DEFAULT_SQL_SCOPE } from "./sql-audiences.js";
import { DEFAULTS, type TokenSourceOptions } from "./token-source-options.js";

// Validation at construction and the one place where defaults are resolved. Every failure is an
// InvalidOptionError naming the option, a printable (secret-free) value and what was expected.
// The `credential` option is checked by credential-presets.ts' validator, the forms of allowedScopes
// by the scope guard.

/** Options with every default applied, plus the scope guard built from `allowedScopes`. */
export interface ResolvedTokenSourceOptions {
  credential: CredentialSpec;
  scope: string;
  scopeGuard: ScopeGuard;
  refreshWindowInMs: number;
  minimumValidityInMs: number;
  retryInitialDelayInMs: number;
  retryMaxDelayInMs: number;
  identityOptions: TokenSourceOptions["identityOptions"];
  logger: Logger | undefined;
  onEvent: ((event: TokenSourceEvent) => void) | undefined;
}

// A record rather than an array, so that adding an option without handling it here fails to compile.
const KNOWN_OPTIONS: Record<keyof TokenSourceOptions, true> = {
  credential: true,
  scope: true,
  allowedScopes: true,
  refreshWindowInMs: true,
  minimumValidityInMs: true,
  retryInitialDelayInMs: true,
  retryMaxDelayInMs: true,
  identityOptions: true,
  logger: true,
  onEvent: true,
};
const OPTION_NAMES = Object.keys(KNOWN_OPTIONS);

/** setTimeout fires at once (with a warning) beyond this, so a retry delay may not exceed it. */
export const MAX_TIMER_DELAY_IN_MS = 2_147_483_647;

const hasOwn = (object: object, key: string): boolean => Object.hasOwn(object, key);

/** Validates `options` (any value: it may come from untyped JavaScript or a config file) and applies defaults. */
export function resolveTokenSourceOptions(options: unknown): ResolvedTokenSourceOptions {
  if (options === undefined) options = {};
  if (!isObject(options)) {
    throw new InvalidOptionError(
      "options",
      printable(options),
      "an object of token source options, or nothing",
    );
  }
  for (const key of Object.keys(options)) {
    if (!hasOwn(KNOWN_OPTIONS, key)) {
      const hint = suggest(key);
      throw new InvalidOptionError(
        key,
        "not a known option",
        `one of ${OPTION_NAMES.join(", ")}${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
      );
    }
  }
  const given = options as Record<keyof TokenSourceOptions, unknown>;

  const credential = given.credential === undefined ? DEFAULTS.credential : checkCredential(given.credential);
  // The guard validates allowedScopes itself (InvalidOptionError naming the entry).
  const scopeGuard = createScopeGuard(given.allowedScopes as readonly string[] | undefined);
  const scope = given.scope === undefined ? DEFAULTS.scope : checkScope(given.scope, scopeGuard);

  const refreshWindowInMs = duration(given, "refreshWindowInMs", 0, Number.MAX_SAFE_INTEGER);
  const minimumValidityInMs = duration(given, "minimumValidityInMs", 0, Number.MAX_SAFE_INTEGER);
  if (minimumValidityInMs >= refreshWindowInMs) {
    const blame = given.minimumValidityInMs !== undefined ? "minimumValidityInMs" : "refreshWindowInMs";
    throw new InvalidOptionError(
      blame,
      String(blame === "minimumValidityInMs" ? minimumValidityInMs : refreshWindowInMs),
      blame === "minimumValidityInMs"
        ? `less than refreshWindowInMs (${describeMs(given, "refreshWindowInMs", refreshWindowInMs)}): ` +
            "a token must be refreshed before it stops being handed out"
        : `more than minimumValidityInMs (${describeMs(given, "minimumValidityInMs", minimumValidityInMs)}): ` +
            "a token must be refreshed before it stops being handed out",
    );
  }
  const retryInitialDelayInMs = duration(given, "retryInitialDelayInMs", 1, MAX_TIMER_DELAY_IN_MS);
  const retryMaxDelayInMs = duration(given, "retryMaxDelayInMs", 1, MAX_TIMER_DELAY_IN_MS);
  if (retryInitialDelayInMs > retryMaxDelayInMs) {
    const blame = given.retryInitialDelayInMs !== undefined ? "retryInitialDelayInMs" : "retryMaxDelayInMs";
    throw new InvalidOptionError(
      blame,
      String(blame === "retryInitialDelayInMs" ? retryInitialDelayInMs : retryMaxDelayInMs),
      blame === "retryInitialDelayInMs"
        ? `at most retryMaxDelayInMs (${describeMs(given, "retryMaxDelayInMs", retryMaxDelayInMs)})`
        : `at least retryInitialDelayInMs (${describeMs(given, "retryInitialDelayInMs", retryInitialDelayInMs)})`,
    );
  }

  if (given.identityOptions !== undefined && !isObject(given.identityOptions)) {
    throw new InvalidOptionError(
      "identityOptions",
      printable(given.identityOptions),
      'an object of @azure/identity credential options, e.g. { authorityHost: "https://login.microsoftonline.us" }',
    );
  }
  return {
    credential,
    scope,
    scopeGuard,
    refreshWindowInMs,
    minimumValidityInMs,
    retryInitialDelayInMs,
    retryMaxDelayInMs,
    identityOptions: given.identityOptions as TokenSourceOptions["identityOptions"],
    logger: checkFunction(given, "logger", "a function receiving { level, message, event }") as
      | Logger
      | undefined,
    onEvent: checkFunction(
      given,
      "onEvent",
      "a function receiving each event",
    ) as ResolvedTokenSourceOptions["onEvent"],
  };
}

function checkCredential(value: unknown): CredentialSpec {
  validateCredentialSpec(value);
  return value;
}

function checkScope(value: unknown, guard: ScopeGuard): string {
  if (typeof value !== "string" || !value.endsWith("/.default")) {
    throw new InvalidOptionError(
      "scope",
      printable(value),
      `a scope ending in "/.default", e.g. "${DEFAULT_SQL_SCOPE}"`,
    );
  }
  if (!guard.isAllowed(value)) {
    throw new InvalidOptionError(
      "scope",
      printable(value),
      `a scope that allowedScopes allows (${guard.allowedScopes.join(", ")}); add it to "allowedScopes" if it is a SQL audience`,
    );
  }
  return value;
}

type DurationOption =
  | "refreshWindowInMs"
  | "minimumValidityInMs"
  | "retryInitialDelayInMs"
  | "retryMaxDelayInMs";

function duration(given: Record<string, unknown>, name: DurationOption, min: number, max: number): number {
  const value = given[name];
  if (value === undefined) return DEFAULTS[name];
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidOptionError(
      name,
      printable(value),
      `a finite number of milliseconds ${range} (default ${DEFAULTS[name]}, ${humanDuration(DEFAULTS[name])})`,
    );
  }
  return value;
}

function describeMs(given: Record<string, unknown>, name: DurationOption, value: number): string {
  return `${value}${given[name] === undefined ? ", the default" : ""}`;
}

function checkFunction(
  given: Record<string, unknown>,
  name: "logger" | "onEvent",
  expected: string,
): unknown {
  const value = given[name];
  if (value !== undefined && typeof value !== "function")
    throw new InvalidOptionError(name, printable(value), expected);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A likely intended option name for a misspelt key (case-insensitive, or at most 3 edits away). */
function suggest(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const name of OPTION_NAMES) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(name, key);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}
