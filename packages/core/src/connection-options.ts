import type { ConnectionEvent } from "./connection-events.js";
import {
  CONNECTION_LIFETIME_DEFAULTS,
  type ConnectionLifetimePolicy,
  createConnectionLifetimePolicy,
} from "./connection-lifetime.js";
import type { CredentialSpec } from "./credential-spec.js";
import { describeOptionValue, invalidOptionFor, isInvalidOptionError } from "./errors.js";
import { createTokenSource, type TokenSource } from "./token-source.js";
import type { TokenSourceOptions } from "./token-source-options.js";

// The options every driver adapter takes (token source, token mode, scope, connection lifetime,
// onEvent), their defaults and their validation, shared here so that adapters do not each carry a copy
// (first written in @entra-sql/mssql's options.ts). Errors carry the adapter's package name, like
// InvalidOptionError: the option belongs to the adapter the user called.

/**
 * How tedious receives the token: `"inline"` (`azure-active-directory-access-token`, fetched before the
 * socket opens) or `"token-credential"` (tedious asks after the server names its SPN).
 */
export type TokenMode = "inline" | "token-credential";

/** The options a driver adapter takes; `E` is the adapter's event type. */
export interface ConnectionOptions<E = ConnectionEvent> {
  /**
   * Where tokens come from: a TokenSource from `@entra-sql/core` (shared with other pools or adapters;
   * you close it), or options for `createTokenSource` (the adapter then creates one and owns it; its
   * README says how it is closed). Default: `createTokenSource()`, the default credential chain.
   * @example { credential: "managed-identity", refreshWindowInMs: 30 * 60_000 }
   */
  tokenSource?: TokenSource | TokenSourceOptions;
  /**
   * `"inline"` (default): the token is fetched before the socket opens and sent in LOGIN7
   * (`azure-active-directory-access-token`); the scope comes from `scope` or the server's host name.
   * One round trip less per login. `"token-credential"`: tedious asks the token source after the
   * server names its SPN (FEDAUTHINFO); the scope follows the server, and core's scope guard refuses
   * any scope that is not a SQL audience.
   * @example "token-credential"
   */
  tokenMode?: TokenMode;
  /**
   * Token scope for `"inline"` mode. Default: derived from the server host
   * (`*.database.windows.net` -> `https://database.windows.net/.default`, other clouds likewise);
   * required for hosts with another suffix (private DNS names, local servers). Not allowed with
   * `"token-credential"` (the server names the scope there).
   * @example "https://database.windows.net/.default"
   */
  scope?: string;
  /**
   * Retire a pooled connection this long after it logged in, in ms (Django's `CONN_MAX_AGE`); `null`
   * disables the age cap (the token bound still applies). Default 30 minutes.
   * @example 15 * 60_000
   */
  maxAgeInMs?: number | null;
  /** Fraction of `maxAgeInMs` subtracted at random per connection, in [0, 0.5). Default 0.025. */
  maxAgeJitterRatio?: number;
  /**
   * Retire a connection this long before the token it logged in with expires, in ms. Default 60 s.
   * @example 2 * 60_000
   */
  tokenExpiryMarginInMs?: number;
  /** Receives the adapter's events (connections opened and retired, retries). Default: none. */
  onEvent?: (event: E) => void;
}

/** The `credential` shortcut an adapter may offer next to `tokenSource` (see `credentialShortcut`). */
export interface CredentialShortcutOption {
  /**
   * Where tokens come from, as a credential: a preset name (`"default"`, `"cli"`,
   * `"managed-identity"`, ...), a preset object, any `TokenCredential`, or an ordered list of those.
   * A shortcut for `tokenSource: { credential }`; give one or the other. Default: `"default"` (the
   * default chain: environment, workload identity, managed identity, Azure CLI, Azure Developer CLI).
   * @example "managed-identity"
   */
  credential?: CredentialSpec;
}

export const CONNECTION_OPTION_DEFAULTS = {
  // Inline saves the FEDAUTHINFO round trip of every login (DESIGN.md "Two ways to hand tedious the
  // token"); test/bench/mssql-token-mode.ts and test/bench/knex-token-mode.ts measure it.
  tokenMode: "inline",
  maxAgeInMs: CONNECTION_LIFETIME_DEFAULTS.maxAgeInMs,
  maxAgeJitterRatio: CONNECTION_LIFETIME_DEFAULTS.maxAgeJitterRatio,
  tokenExpiryMarginInMs: CONNECTION_LIFETIME_DEFAULTS.tokenExpiryMarginInMs,
} as const;

/** {@link ConnectionOptions} validated, with every default applied. */
export interface ResolvedConnectionOptions<E = ConnectionEvent> {
  tokenSource: TokenSource;
  /** True when the adapter created the token source (and so closes it). */
  ownsTokenSource: boolean;
  tokenMode: TokenMode;
  scope: string | undefined;
  lifetime: ConnectionLifetimePolicy;
  onEvent: ((event: E) => void) | undefined;
}

export interface ResolveConnectionOptionsSettings {
  /** The adapter's package name, for error messages, e.g. `"@entra-sql/knex"`. */
  packageName: string;
  /** Accept `credential` as a shortcut for `tokenSource: { credential }`. Default false. */
  credentialShortcut?: boolean;
}

// Records rather than arrays, so that adding an option without handling it here fails to compile.
const KNOWN_OPTIONS: Record<keyof ConnectionOptions, true> = {
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
 * Validates an adapter's `options` (any value: it may come from untyped JavaScript) and applies the
 * defaults. Creates the token source last, so an invalid option never leaves one behind. Every failure
 * is an InvalidOptionError under `settings.packageName`, naming the option, the value and the fix.
 * @example const resolved = resolveConnectionOptions<MyEvent>(options, { packageName: "@entra-sql/x" });
 */
export function resolveConnectionOptions<E = ConnectionEvent>(
  options: unknown,
  settings: ResolveConnectionOptionsSettings,
): ResolvedConnectionOptions<E> {
  const { packageName } = settings;
  const credentialShortcut = settings.credentialShortcut === true;
  const invalid = invalidOptionFor(packageName);

  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalid("options", describeOptionValue(options), `an object of ${packageName} options, or nothing`);
  }
  const names = credentialShortcut ? ["credential", ...OPTION_NAMES] : OPTION_NAMES;
  for (const key of Object.keys(options)) {
    if (!names.includes(key)) throw invalid(key, "not a known option", `one of ${names.join(", ")}`);
  }
  const given = options as ConnectionOptions<E> & CredentialShortcutOption;

  const tokenMode = given.tokenMode ?? CONNECTION_OPTION_DEFAULTS.tokenMode;
  if (!TOKEN_MODES.includes(tokenMode)) {
    throw invalid("tokenMode", describeOptionValue(tokenMode), '"inline" or "token-credential"');
  }
  const scope = given.scope;
  if (scope !== undefined) {
    if (typeof scope !== "string" || scope.trim() === "") {
      throw invalid(
        "scope",
        describeOptionValue(scope),
        'a token scope, e.g. "https://database.windows.net/.default"',
      );
    }
    if (tokenMode === "token-credential") {
      throw invalid(
        "scope",
        describeOptionValue(scope),
        'no scope with tokenMode "token-credential" (the server names it; core\'s scope guard checks it), or tokenMode "inline"',
      );
    }
  }
  if (given.onEvent !== undefined && typeof given.onEvent !== "function") {
    throw invalid("onEvent", describeOptionValue(given.onEvent), "a function");
  }

  let lifetime: ConnectionLifetimePolicy;
  try {
    lifetime = createConnectionLifetimePolicy({
      maxAgeInMs: given.maxAgeInMs === undefined ? CONNECTION_OPTION_DEFAULTS.maxAgeInMs : given.maxAgeInMs,
      maxAgeJitterRatio: given.maxAgeJitterRatio ?? CONNECTION_OPTION_DEFAULTS.maxAgeJitterRatio,
      tokenExpiryMarginInMs: given.tokenExpiryMarginInMs ?? CONNECTION_OPTION_DEFAULTS.tokenExpiryMarginInMs,
    });
  } catch (error) {
    // The policy's own checks, re-thrown under the adapter's name.
    if (isInvalidOptionError(error)) throw invalid(error.option, error.value, error.expected, error);
    throw error;
  }

  const credential = credentialShortcut ? given.credential : undefined;
  let value: unknown = given.tokenSource;
  if (credential !== undefined && value !== undefined) {
    throw invalid(
      "credential",
      describeOptionValue(credential),
      'either "credential" or "tokenSource", not both (put the credential inside: tokenSource: { credential, ... })',
    );
  }
  if (credential !== undefined) value = { credential };
  const base = { tokenMode, scope, lifetime, onEvent: given.onEvent };
  if (value === undefined) return { tokenSource: createTokenSource(), ownsTokenSource: true, ...base };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(
      "tokenSource",
      describeOptionValue(value),
      "a TokenSource from createTokenSource() or an object of token source options",
    );
  }
  if (isTokenSource(value)) return { tokenSource: value, ownsTokenSource: false, ...base };
  if (typeof (value as { getToken?: unknown }).getToken === "function") {
    throw invalid(
      "tokenSource",
      "a TokenCredential without getTokenDetails/invalidate",
      credentialShortcut
        ? 'a TokenSource (createTokenSource({ credential }) from "@entra-sql/core"), or pass the credential as "credential"'
        : 'a TokenSource: wrap the credential with createTokenSource({ credential }) from "@entra-sql/core"',
    );
  }
  try {
    return { tokenSource: createTokenSource(value as TokenSourceOptions), ownsTokenSource: true, ...base };
  } catch (error) {
    if (isInvalidOptionError(error)) {
      const option = credential === undefined ? `tokenSource.${error.option}` : error.option;
      throw invalid(option, error.value, error.expected, error);
    }
    throw error;
  }
}

/** A TokenSource by shape (not `instanceof`: it may come from a duplicate install of this package). */
function isTokenSource(value: object): value is TokenSource {
  const candidate = value as Partial<Record<keyof TokenSource, unknown>>;
  return (
    typeof candidate.getToken === "function" &&
    typeof candidate.getTokenDetails === "function" &&
    typeof candidate.invalidate === "function"
  );
}
