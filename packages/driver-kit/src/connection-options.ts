import {
  type CredentialSpec,
  createTokenSource,
  isInvalidOptionError,
  type TokenSource,
  type TokenSourceOptions,
} from "@entra-sql/core";
import { canonicalScope, describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import type { ConnectionEvent } from "./connection-events.js";
import {
  CONNECTION_LIFETIME_DEFAULTS,
  type ConnectionLifetimePolicy,
  createConnectionLifetimePolicy,
} from "./connection-lifetime.js";

// The options every driver adapter takes (token source or credential, token mode, scope, connection
// lifetime, onEvent), their defaults and their validation. Errors carry the adapter's package name,
// like InvalidOptionError: the option belongs to the adapter the user called.

/**
 * How tedious receives the token: `"inline"` (`azure-active-directory-access-token`, fetched before the
 * socket opens) or `"token-credential"` (tedious asks after the server names its SPN).
 */
export type TokenMode = "inline" | "token-credential";

/** The options every adapter takes; `E` is the adapter's event type. */
export interface ConnectionOptions<E = ConnectionEvent> {
  /**
   * Where tokens come from, as a credential: a preset name (`"default"`, `"cli"`, `"managed-identity"`,
   * ...), a preset object, any `TokenCredential`, or an ordered list of those. A shortcut for
   * `tokenSource: { credential }`; give one or the other. Default: `"default"` (the default chain).
   * @example "managed-identity"
   */
  credential?: CredentialSpec;
  /**
   * Options for the `@azure/identity` credentials the `credential` shortcut creates (e.g.
   * `{ tlsOptions: { ca } }`, `{ disableInstanceDiscovery: true }`). With `tokenSource`, put them inside it.
   */
  identityOptions?: TokenSourceOptions["identityOptions"];
  /**
   * Where tokens come from: a TokenSource from `@entra-sql/core` (shared with other pools or adapters;
   * you close it), or options for `createTokenSource` (the adapter then creates one and owns it; its
   * README says how it is closed). Default: `createTokenSource()`, the default credential chain.
   * @example { credential: "managed-identity", refreshWindowInMs: 30 * 60_000 }
   */
  tokenSource?: TokenSource | TokenSourceOptions;
  /**
   * `"inline"` (default): the token is fetched before the socket opens and sent in LOGIN7; one round
   * trip less per login. `"token-credential"`: tedious asks the token source after the server names its
   * SPN (FEDAUTHINFO); the scope follows the server, and the scope guard refuses any that is not a SQL
   * audience (or, with `scope`, any other than that one).
   * @example "token-credential"
   */
  tokenMode?: TokenMode;
  /**
   * The token scope. Inline: the scope requested; default derived from the server host
   * (`*.database.windows.net` -> `https://database.windows.net/.default`, other clouds likewise),
   * required for hosts with another suffix (private DNS names, local servers). Token-credential: the
   * only scope a server may ask for (optional), so switching modes is one setting.
   * @example "https://database.windows.net/.default"
   */
  scope?: string;
  /**
   * Retire a pooled connection this long after it logged in, in ms (Django's `CONN_MAX_AGE`, which is
   * in seconds: 1800 there is `30 * 60_000` here); `null` disables the age cap (the token bound still
   * applies). Values below 1000 are refused as likely seconds. Default 30 minutes.
   * @example 15 * 60_000
   */
  maxAgeInMs?: number | null;
  /** Fraction of `maxAgeInMs` subtracted at random per connection, in [0, 0.5). Default 0.025. */
  maxAgeJitterRatio?: number;
  /**
   * Retire a connection this long before the token it logged in with expires, in ms. Default: the
   * smaller of 60 s and a tenth of the token's lifetime.
   * @example 2 * 60_000
   */
  tokenExpiryMarginInMs?: number;
  /** Receives the adapter's events (connections opened and retired, retries). Default: none. */
  onEvent?: (event: E) => void;
}

export const CONNECTION_OPTION_DEFAULTS = {
  // Inline saves the FEDAUTHINFO round trip of every login; test/bench/*-token-mode.ts measure it.
  tokenMode: "inline",
  maxAgeInMs: CONNECTION_LIFETIME_DEFAULTS.maxAgeInMs,
  maxAgeJitterRatio: CONNECTION_LIFETIME_DEFAULTS.maxAgeJitterRatio,
  /** The smaller of 60 s and a tenth of each token's lifetime. */
  tokenExpiryMarginInMs: "auto",
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
  /** The adapter's package name, for messages. */
  packageName: string;
}

// A record rather than an array, so that adding an option without handling it here fails to compile.
const KNOWN_OPTIONS: Record<keyof ConnectionOptions, true> = {
  credential: true,
  identityOptions: true,
  tokenSource: true,
  tokenMode: true,
  scope: true,
  maxAgeInMs: true,
  maxAgeJitterRatio: true,
  tokenExpiryMarginInMs: true,
  onEvent: true,
};
/** The option names every adapter takes, for "did you mean" checks of adapters that mix options. */
export const CONNECTION_OPTION_NAMES: readonly string[] = Object.freeze(Object.keys(KNOWN_OPTIONS));
const TOKEN_MODES: readonly TokenMode[] = ["inline", "token-credential"];

/**
 * Validates an adapter's `options` (any value: it may come from untyped JavaScript) and applies the
 * defaults. Creates the token source last, so an invalid option never leaves one behind. Every failure
 * is an InvalidOptionError under `packageName`, naming the option, the value and the fix.
 * @example const resolved = resolveConnectionOptions<MyEvent>(options, "@entra-sql/x");
 */
export function resolveConnectionOptions<E = ConnectionEvent>(
  options: unknown,
  packageName: string,
): ResolvedConnectionOptions<E> {
  const invalid = invalidOptionFor(packageName);
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalid("options", describeOptionValue(options), `an object of ${packageName} options, or nothing`);
  }
  for (const key of Object.keys(options)) {
    if (!CONNECTION_OPTION_NAMES.includes(key)) {
      throw invalid(key, "not a known option", `one of ${CONNECTION_OPTION_NAMES.join(", ")}`);
    }
  }
  const given = options as ConnectionOptions<E>;

  const tokenMode = given.tokenMode ?? CONNECTION_OPTION_DEFAULTS.tokenMode;
  if (!TOKEN_MODES.includes(tokenMode)) {
    throw invalid("tokenMode", describeOptionValue(tokenMode), '"inline" or "token-credential"');
  }
  const scope = given.scope;
  // canonicalScope reads what the scope guard reads: a scope it cannot read would pin nothing.
  if (scope !== undefined && (typeof scope !== "string" || canonicalScope(scope) === undefined)) {
    throw invalid(
      "scope",
      describeOptionValue(scope),
      'a token scope, e.g. "https://database.windows.net/.default"',
    );
  }
  if (given.onEvent !== undefined && typeof given.onEvent !== "function") {
    throw invalid("onEvent", describeOptionValue(given.onEvent), "a function");
  }

  let lifetime: ConnectionLifetimePolicy;
  try {
    lifetime = createConnectionLifetimePolicy({
      maxAgeInMs: given.maxAgeInMs === undefined ? CONNECTION_OPTION_DEFAULTS.maxAgeInMs : given.maxAgeInMs,
      maxAgeJitterRatio: given.maxAgeJitterRatio ?? CONNECTION_OPTION_DEFAULTS.maxAgeJitterRatio,
      ...(given.tokenExpiryMarginInMs === undefined
        ? {}
        : { tokenExpiryMarginInMs: given.tokenExpiryMarginInMs }),
    });
  } catch (error) {
    // The policy's own checks, re-thrown under the adapter's name.
    if (isInvalidOptionError(error)) throw invalid(error.option, error.value, error.expected, error);
    throw error;
  }

  const base = { tokenMode, scope, lifetime, onEvent: given.onEvent, packageName };
  const { tokenSource, owned, path } = tokenSourceFrom(given, invalid);
  if (tokenSource !== undefined) return { tokenSource, ownsTokenSource: false, ...base };
  try {
    return { tokenSource: createTokenSource(owned), ownsTokenSource: true, ...base };
  } catch (error) {
    if (isInvalidOptionError(error))
      throw invalid(`${path}${error.option}`, error.value, error.expected, error);
    throw error;
  }
}

/** The user's TokenSource, or the options of the one to create (`path`: where its options were given). */
function tokenSourceFrom(
  given: ConnectionOptions<never>,
  invalid: ReturnType<typeof invalidOptionFor>,
): { tokenSource?: TokenSource; owned?: TokenSourceOptions; path: string } {
  const { credential, identityOptions, tokenSource: value } = given;
  if (value !== undefined) {
    for (const [name, shortcut] of [
      ["credential", credential],
      ["identityOptions", identityOptions],
    ] as const) {
      if (shortcut === undefined) continue;
      throw invalid(
        name,
        describeOptionValue(shortcut),
        `either "${name}" or "tokenSource", not both (put it inside: tokenSource: { ${name}, ... })`,
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid(
        "tokenSource",
        describeOptionValue(value),
        "a TokenSource from createTokenSource() or an object of token source options",
      );
    }
    if (isTokenSource(value)) return { tokenSource: value, path: "" };
    if (typeof (value as { getToken?: unknown }).getToken === "function") {
      throw invalid(
        "tokenSource",
        "a TokenCredential without getTokenDetails/invalidate",
        'a TokenSource (createTokenSource({ credential }) from "@entra-sql/core"), or pass the credential as "credential"',
      );
    }
    return { owned: value as TokenSourceOptions, path: "tokenSource." };
  }
  const owned: TokenSourceOptions = {
    ...(credential === undefined ? {} : { credential }),
    ...(identityOptions === undefined ? {} : { identityOptions }),
  };
  return { owned, path: "" };
}

/** A TokenSource by shape (not `instanceof`: it may come from a duplicate install of core). */
function isTokenSource(value: object): value is TokenSource {
  const candidate = value as Partial<Record<keyof TokenSource, unknown>>;
  return (
    typeof candidate.getToken === "function" &&
    typeof candidate.getTokenDetails === "function" &&
    typeof candidate.invalidate === "function"
  );
}
