import { channel } from "node:diagnostics_channel";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { createCredentialChain } from "./credential-chain.js";
import { EntraSqlError, InvalidOptionError, ScopeNotAllowedError } from "./errors.js";
import { createEventEmitter, type ListenerOf, toLogEntry } from "./event-emitter.js";
import { TOKEN_SOURCE_CHANNEL, type TokenSourceEvent, type TokenSourceEventType } from "./events.js";
import { displayText, inspectCustom, printable, redactTokensIn, withRedactedView } from "./redact.js";
import {
  type CachedToken,
  createScopeCycler,
  type ScopeCacheSummary,
  type ScopeCycler,
} from "./scope-cycler.js";
import { canonicalScope } from "./scope-guard.js";
import { DEFAULT_SQL_SCOPE } from "./sql-audiences.js";
import type { TokenSourceOptions } from "./token-source-options.js";
import { resolveTokenSourceOptions } from "./validate-options.js";

// The token source: scope guard first, then one cycler per scope (created on first use, keyed by the
// guard's canonical spelling, so "https://database.windows.net//.default" and ".../.default" share
// one token) over the credential chain. It is a TokenCredential, so tedious' "token-credential"
// authentication and any Azure SDK client accept it as is.

/** Shared by every token source of this module copy; Node keys channels by name, across copies too. */
const tokenSourceChannel = channel(TOKEN_SOURCE_CHANNEL);

/** A token with what an adapter needs to stamp a connection that logs in with it. */
export interface TokenDetails {
  /** The access token. `JSON.stringify` / `util.inspect` of this object show `[redacted]` instead. */
  token: string;
  expiresOnTimestamp: number;
  /** When the credential suggested refreshing, if it did. */
  refreshAfterTimestamp: number | undefined;
  /** The credential source that produced it, e.g. "ManagedIdentityCredential". */
  source: string;
  scope: string;
}

/** What `JSON.stringify`, `String` and `util.inspect` show: expiry times and sources, never a token. */
export interface TokenSourceSummary {
  defaultScope: string;
  activeSource: string | undefined;
  closed: boolean;
  scopes: ScopeCacheSummary[];
}

type EventName = TokenSourceEventType | "*";

export interface InvalidateOptions {
  /**
   * The token a server rejected. The cache is then dropped unless an earlier invalidation already
   * covered that token, or this source never handed it out (see {@link TokenSource.invalidate}).
   */
  token?: string;
}

export interface TokenSource extends TokenCredential {
  /**
   * A valid token for exactly one scope (tedious passes one). The scope guard is checked first: a
   * scope that is not an allowed SQL audience is refused before any credential is called. Only
   * `abortSignal` of `options` is used: it stops this caller's wait, not the shared fetch. Never
   * resolves `null`.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>;
  /** The raw token string, for drivers that take it like a password. Default scope: `defaultScope`. */
  getAccessToken(scope?: string, options?: Pick<GetTokenOptions, "abortSignal">): Promise<string>;
  /** The token with its expiry, refresh hint, source and scope. Default scope: `defaultScope`. */
  getTokenDetails(scope?: string, options?: Pick<GetTokenOptions, "abortSignal">): Promise<TokenDetails>;
  /**
   * Call it when a server rejects a token. Drops the cached token of `scope` (of every scope when
   * omitted) and detaches any fetch in flight for it (that fetch still answers the callers waiting
   * for it, but fills nothing), so the next token handed out for the scope comes from a fetch that
   * STARTED after this call; emits `token-invalidated`.
   *
   * Pass the rejected token as `options.token`. Then:
   * - nothing happens when an earlier invalidation already covered that token (its fetch started
   *   before that invalidation): when ten pooled logins are refused with the same token at once, the
   *   first call starts one refresh and the other nine change nothing (they wait for that refresh
   *   like any caller);
   * - nothing happens for a token this source did not hand out for the scope (it remembers the last
   *   16 per scope);
   * - otherwise the cache is dropped even when it already holds a newer token, since a background
   *   refresh may have fetched that one before the server refused the old one.
   * A preset credential that answers from its own cache with a dropped token is rebuilt once.
   */
  invalidate(scope?: string, options?: InvalidateOptions): void;
  /** Listens to one event type, or to all with "*". Returns a function that removes the listener. */
  on<T extends EventName>(type: T, listener: ListenerOf<TokenSourceEvent, T>): () => void;
  off<T extends EventName>(type: T, listener: ListenerOf<TokenSourceEvent, T>): void;
  /** The credential source that produced the last token, once one has. */
  readonly activeSource: string | undefined;
  /** The scope used when a caller names none. */
  readonly defaultScope: string;
  /** Stops background retries, aborts fetches in flight and forgets every token; later calls reject. */
  close(): void;
  toJSON(): TokenSourceSummary;
  toString(): string;
}

/**
 * Creates a token source. Options are validated here: an unknown key or a bad value throws
 * InvalidOptionError naming it.
 * @example
 * const tokens = createTokenSource({ credential: ["managed-identity", "cli"] });
 * const config = { authentication: { type: "token-credential", options: { credential: tokens } } };
 */
export function createTokenSource(options?: TokenSourceOptions): TokenSource {
  const resolved = resolveTokenSourceOptions(options);
  const guard = resolved.scopeGuard;
  const events = createEventEmitter<TokenSourceEvent>(warnOnceAboutListenerErrors(), tokenSourceChannel);
  const { logger, onEvent } = resolved;
  if (logger !== undefined) events.on("*", (event) => logger(toLogEntry(event)));
  if (onEvent !== undefined) events.on("*", onEvent);

  const chain = createCredentialChain(resolved.credential, {
    ...(resolved.identityOptions === undefined ? {} : { identityOptions: resolved.identityOptions }),
    emit: (event) => events.publish(event),
  });
  const timing = {
    refreshWindowInMs: resolved.refreshWindowInMs,
    minimumValidityInMs: resolved.minimumValidityInMs,
    retryInitialDelayInMs: resolved.retryInitialDelayInMs,
    retryMaxDelayInMs: resolved.retryMaxDelayInMs,
  };
  const cyclers = new Map<string, ScopeCycler>();
  let closed = false;

  function cyclerFor(scope: string): ScopeCycler {
    let cycler = cyclers.get(scope);
    if (cycler === undefined) {
      cycler = createScopeCycler({
        scope,
        timing,
        events,
        fetchToken: (fetchScope, fetchOptions) => chain.getToken(fetchScope, fetchOptions),
      });
      cyclers.set(scope, cycler);
    }
    return cycler;
  }

  async function acquire(scope: unknown, abortSignal: GetTokenOptions["abortSignal"]): Promise<CachedToken> {
    if (typeof scope !== "string" || scope === "") {
      throw new InvalidOptionError("scope", printable(scope), `a scope string, e.g. "${DEFAULT_SQL_SCOPE}"`);
    }
    if (closed) {
      throw new EntraSqlError(
        `@entra-sql/core: the token source is closed; no token for "${displayText(scope)}".`,
      );
    }
    const key = guard.isAllowed(scope) ? canonicalScope(scope) : undefined;
    if (key === undefined) {
      // A hostile server may choose this text: the event and the error carry it as displayText shows
      // it (cut short, no control characters, nothing token-shaped).
      events.emit("scope-refused", () => ({ type: "scope-refused", scope: displayText(scope) }));
      throw new ScopeNotAllowedError(scope, guard.allowedScopes);
    }
    return cyclerFor(key).getToken(abortSignal);
  }

  function summary(): TokenSourceSummary {
    return {
      defaultScope: resolved.scope,
      activeSource: chain.activeSource,
      closed,
      scopes: [...cyclers.values()].map((cycler) => cycler.summary()),
    };
  }

  const tokenSource: TokenSource = {
    async getToken(scopes, getTokenOptions) {
      const scope = Array.isArray(scopes) ? onlyScope(scopes) : scopes;
      return (await acquire(scope, getTokenOptions?.abortSignal)).accessToken;
    },
    async getAccessToken(scope = resolved.scope, getTokenOptions) {
      return (await acquire(scope, getTokenOptions?.abortSignal)).accessToken.token;
    },
    async getTokenDetails(scope = resolved.scope, getTokenOptions) {
      const cached = await acquire(scope, getTokenOptions?.abortSignal);
      return toDetails(cached);
    },
    invalidate(scope, options) {
      const onlyToken = options?.token;
      if (scope === undefined) for (const cycler of cyclers.values()) cycler.invalidate(onlyToken);
      else cyclers.get(canonicalScope(scope) ?? scope)?.invalidate(onlyToken);
    },
    on: (type, listener) => events.on(type, listener),
    off: (type, listener) => events.off(type, listener),
    get activeSource() {
      return chain.activeSource;
    },
    defaultScope: resolved.scope,
    close() {
      if (closed) return;
      closed = true;
      for (const cycler of cyclers.values()) cycler.close();
    },
    toJSON: summary,
    toString() {
      const { defaultScope, activeSource, scopes } = summary();
      const cached = scopes
        .filter((entry) => entry.expiresOn !== undefined)
        .map((entry) => `${entry.scope} until ${entry.expiresOn}`);
      return (
        `TokenSource(default scope ${defaultScope}; active source ${activeSource ?? "none yet"}; ` +
        `cached: ${cached.length === 0 ? "nothing" : cached.join(", ")}${closed ? "; closed" : ""})`
      );
    },
  };
  Object.defineProperty(tokenSource, inspectCustom, {
    enumerable: false,
    value: (depth: number, inspectOptions: object, inspect: (value: unknown, options: object) => string) =>
      depth < 0 ? "[TokenSource]" : `TokenSource ${inspect(summary(), inspectOptions)}`,
  });
  return tokenSource;
}

function onlyScope(scopes: readonly string[]): string {
  const [scope] = scopes;
  if (scopes.length !== 1 || scope === undefined) {
    throw new InvalidOptionError(
      "getToken(scopes)",
      printable(scopes),
      `exactly one scope: a SQL login token has one audience, e.g. ["${DEFAULT_SQL_SCOPE}"]`,
    );
  }
  return scope;
}

function toDetails(cached: CachedToken): TokenDetails {
  return withRedactedView<TokenDetails>({
    token: cached.accessToken.token,
    expiresOnTimestamp: cached.accessToken.expiresOnTimestamp,
    refreshAfterTimestamp: cached.refreshAfterTimestamp,
    source: cached.source,
    scope: cached.scope,
  });
}

/** A listener that throws never breaks token delivery; the first such error is reported as a Node warning. */
function warnOnceAboutListenerErrors(): (error: unknown) => void {
  let warned = false;
  return (error) => {
    if (warned) return;
    warned = true;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.emitWarning(
      `@entra-sql/core: a token source event listener threw (${redactTokensIn(reason)}). ` +
        "Tokens are unaffected; further listener errors of this token source are not reported.",
      { code: "ENTRA_SQL_LISTENER_ERROR" },
    );
  };
}
