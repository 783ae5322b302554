import {
  CONNECTION_LIFETIME_DEFAULTS,
  type ConnectionLifetimePolicy,
  type CredentialSpec,
  createConnectionLifetimePolicy,
  createTokenSource,
  describeOptionValue,
  isInvalidOptionError,
  type TokenSource,
  type TokenSourceOptions,
} from "@entra-sql/core";
import type { EntraKnexEvent } from "./events.js";
import { invalidOption } from "./invalid-option.js";

// Options of createEntraKnexConfig, every default in DEFAULTS, validation at creation. Names and
// defaults are @entra-sql/mssql's where they mean the same; lifetime options are checked by core's
// policy (and re-thrown under this package's name).

/** How tedious receives the token. */
export type TokenMode = "inline" | "token-credential";

export interface EntraKnexOptions {
  /**
   * Where tokens come from, as a credential: a preset name (`"default"`, `"cli"`,
   * `"managed-identity"`, ...), a preset object, any `TokenCredential`, or an ordered list of those.
   * A shortcut for `tokenSource: { credential }`; give one or the other. Default: `"default"` (the
   * default chain: environment, workload identity, managed identity, Azure CLI, Azure Developer CLI).
   * @example "managed-identity"
   */
  credential?: CredentialSpec;
  /**
   * Where tokens come from: a TokenSource from `@entra-sql/core` (shared with other pools; you close
   * it), or options for `createTokenSource` (this package then creates one, owns it, and closes it in
   * `knex.destroy()`). Default: `createTokenSource()`.
   * @example { credential: "cli", refreshWindowInMs: 30 * 60_000 }
   */
  tokenSource?: TokenSource | TokenSourceOptions;
  /**
   * `"inline"` (default): the token is fetched before the socket opens and sent in LOGIN7
   * (`azure-active-directory-access-token`); the scope comes from `scope` or the server's host name.
   * One round trip less per login (test/bench/knex-token-mode.ts). `"token-credential"`: tedious asks
   * the token source after the server names its SPN; the scope follows the server and core's scope
   * guard refuses any scope that is not a SQL audience. Needs Knex >= 3.3.
   * @example "token-credential"
   */
  tokenMode?: TokenMode;
  /**
   * Token scope for `"inline"` mode. Default: derived from the server host
   * (`*.database.windows.net` -> `https://database.windows.net/.default`, other clouds likewise);
   * required for hosts with another suffix. Not allowed with `"token-credential"`.
   * @example "https://database.windows.net/.default"
   */
  scope?: string;
  /**
   * Retire a pooled connection this long after it logged in, in ms (Django's `CONN_MAX_AGE`); `null`
   * disables the age cap (the token bound still applies). Default 30 minutes.
   * @example 15 * 60_000
   */
  maxAgeInMs?: number | null;
  /** Fraction of `maxAgeInMs` taken off at random per connection, in [0, 0.5). Default 0.025. */
  maxAgeJitterRatio?: number;
  /**
   * Retire a connection this long before the token it logged in with expires, in ms. Default 60 s.
   * @example 2 * 60_000
   */
  tokenExpiryMarginInMs?: number;
  /** Receives this package's events (connections opened and retired, retries). Default: none. */
  onEvent?: (event: EntraKnexEvent) => void;
}

export const DEFAULTS = {
  // Inline saves the FEDAUTHINFO round trip of every login; test/bench/knex-token-mode.ts measures it.
  tokenMode: "inline",
  maxAgeInMs: CONNECTION_LIFETIME_DEFAULTS.maxAgeInMs,
  maxAgeJitterRatio: CONNECTION_LIFETIME_DEFAULTS.maxAgeJitterRatio,
  tokenExpiryMarginInMs: CONNECTION_LIFETIME_DEFAULTS.tokenExpiryMarginInMs,
} as const;

export interface ResolvedOptions {
  tokenSource: TokenSource;
  /** True when this package created the token source (and so closes it). */
  ownsTokenSource: boolean;
  tokenMode: TokenMode;
  scope: string | undefined;
  lifetime: ConnectionLifetimePolicy;
  onEvent: ((event: EntraKnexEvent) => void) | undefined;
}

const KNOWN_OPTIONS: Record<keyof EntraKnexOptions, true> = {
  credential: true,
  tokenSource: true,
  tokenMode: true,
  scope: true,
  maxAgeInMs: true,
  maxAgeJitterRatio: true,
  tokenExpiryMarginInMs: true,
  onEvent: true,
};
const OPTION_NAMES = Object.keys(KNOWN_OPTIONS);
const TOKEN_MODES: readonly TokenMode[] = ["inline", "token-credential"];

/**
 * Validates `options` (any value: it may come from untyped JavaScript) and applies the defaults.
 * Creates the token source last, so an invalid option never leaves one behind.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidOption(
      "options",
      describeOptionValue(options),
      "an object of @entra-sql/knex options, or nothing",
    );
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN_OPTIONS, key)) {
      throw invalidOption(key, "not a known option", `one of ${OPTION_NAMES.join(", ")}`);
    }
  }
  const given = options as EntraKnexOptions;

  const tokenMode = given.tokenMode ?? DEFAULTS.tokenMode;
  if (!TOKEN_MODES.includes(tokenMode)) {
    throw invalidOption("tokenMode", describeOptionValue(tokenMode), '"inline" or "token-credential"');
  }
  const scope = given.scope;
  if (scope !== undefined) {
    if (typeof scope !== "string" || scope.trim() === "") {
      throw invalidOption(
        "scope",
        describeOptionValue(scope),
        'a token scope, e.g. "https://database.windows.net/.default"',
      );
    }
    if (tokenMode === "token-credential") {
      throw invalidOption(
        "scope",
        describeOptionValue(scope),
        'no scope with tokenMode "token-credential" (the server names it; core\'s scope guard checks it), or tokenMode "inline"',
      );
    }
  }
  if (given.onEvent !== undefined && typeof given.onEvent !== "function") {
    throw invalidOption("onEvent", describeOptionValue(given.onEvent), "a function");
  }

  let lifetime: ConnectionLifetimePolicy;
  try {
    lifetime = createConnectionLifetimePolicy({
      maxAgeInMs: given.maxAgeInMs === undefined ? DEFAULTS.maxAgeInMs : given.maxAgeInMs,
      maxAgeJitterRatio: given.maxAgeJitterRatio ?? DEFAULTS.maxAgeJitterRatio,
      tokenExpiryMarginInMs: given.tokenExpiryMarginInMs ?? DEFAULTS.tokenExpiryMarginInMs,
    });
  } catch (error) {
    if (isInvalidOptionError(error)) throw invalidOption(error.option, error.value, error.expected, error);
    throw error;
  }

  const { tokenSource, ownsTokenSource } = resolveTokenSource(given.credential, given.tokenSource);
  return { tokenSource, ownsTokenSource, tokenMode, scope, lifetime, onEvent: given.onEvent };
}

function isTokenSource(value: object): value is TokenSource {
  const candidate = value as Partial<Record<keyof TokenSource, unknown>>;
  return (
    typeof candidate.getToken === "function" &&
    typeof candidate.getTokenDetails === "function" &&
    typeof candidate.invalidate === "function"
  );
}

function resolveTokenSource(
  credential: unknown,
  value: unknown,
): { tokenSource: TokenSource; ownsTokenSource: boolean } {
  if (credential !== undefined && value !== undefined) {
    throw invalidOption(
      "credential",
      describeOptionValue(credential),
      'either "credential" or "tokenSource", not both (put the credential inside: tokenSource: { credential, ... })',
    );
  }
  if (credential !== undefined) value = { credential };
  if (value === undefined) return { tokenSource: createTokenSource(), ownsTokenSource: true };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidOption(
      "tokenSource",
      describeOptionValue(value),
      "a TokenSource from createTokenSource() or an object of token source options",
    );
  }
  if (isTokenSource(value)) return { tokenSource: value, ownsTokenSource: false };
  if (typeof (value as { getToken?: unknown }).getToken === "function") {
    throw invalidOption(
      "tokenSource",
      "a TokenCredential without getTokenDetails/invalidate",
      'a TokenSource (createTokenSource({ credential }) from "@entra-sql/core"), or pass the credential as "credential"',
    );
  }
  try {
    return { tokenSource: createTokenSource(value as TokenSourceOptions), ownsTokenSource: true };
  } catch (error) {
    if (isInvalidOptionError(error)) {
      const option = credential === undefined ? `tokenSource.${error.option}` : error.option;
      throw invalidOption(option, error.value, error.expected, error);
    }
    throw error;
  }
}
