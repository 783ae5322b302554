import type { AccessToken, GetTokenOptions } from "@azure/core-auth";
import { backoffDelay } from "./backoff.js";
import { EntraSqlError } from "./errors.js";
import type { TypedEventEmitter } from "./event-emitter.js";
import { type EventError, type TokenSourceEvent, toEventError } from "./events.js";
import { isoTime, redactTokensIn, withRedactedView } from "./redact.js";
import { expiryClaimOf } from "./token-expiry-claim.js";

// One token cache entry per scope, as a closure with one in-flight fetch (modelled on the Azure
// SDK's core-rest-pipeline tokenCycler): a token past its refresh point starts a background refresh
// and keeps being served; only a caller with no usable token waits. Unlike the SDK's cycler, a
// failed background refresh is caught, reported and retried with backoff, never left unhandled.

/** What the credential chain returns for one fetch. */
export interface FetchedToken {
  token: AccessToken;
  source: string;
}

/**
 * Fetches a token. `isDropped`, given once invalidate() has dropped anything, tells whether a token
 * was issued before the last invalidation: a source that answers with such a token (from its own
 * cache) must be asked for a different one.
 */
export type FetchToken = (
  scope: string,
  options: {
    abortSignal: AbortSignal;
    isDropped?: (token: string) => boolean;
    /** The expiry of the token cached when the fetch started, for error messages. */
    cachedTokenExpiresOnTimestamp?: number;
  },
) => Promise<FetchedToken>;

export interface CycleTiming {
  refreshWindowInMs: number;
  minimumValidityInMs: number;
  retryInitialDelayInMs: number;
  retryMaxDelayInMs: number;
}

/** A cached token with the times that govern it. Shared by every caller: do not mutate. */
export interface CachedToken {
  /** Frozen; `JSON.stringify` / `util.inspect` of it show `[redacted]` for the token. */
  readonly accessToken: AccessToken;
  readonly source: string;
  readonly scope: string;
  readonly acquiredAtTimestamp: number;
  /** The credential's own refresh hint, when it is in the token's future. */
  readonly refreshAfterTimestamp: number | undefined;
  /** From here on, a caller's request starts a background refresh. */
  readonly refreshAtTimestamp: number;
  /** Until here the token is handed out; from here on callers wait for a new one. */
  readonly usableUntilTimestamp: number;
}

/** A secret-free description of one scope's cache entry, for util.inspect and toJSON. */
export interface ScopeCacheSummary {
  scope: string;
  source: string | undefined;
  expiresOn: string | undefined;
  refreshFrom: string | undefined;
  handedOutUntil: string | undefined;
  fetching: boolean;
  retryScheduled: boolean;
}

export interface ScopeCycler {
  /** The cached token, or the shared in-flight fetch when no usable token exists. */
  getToken(abortSignal?: GetTokenOptions["abortSignal"]): Promise<CachedToken>;
  /**
   * Drops the cached token and detaches the fetch in flight (it still answers its waiters but fills
   * nothing), so the next token handed out comes from a fetch started after this call.
   * With `onlyToken` (a token a server refused), nothing happens when an earlier invalidation already
   * covered that token (its fetch started before it) or when this cycler never issued it (or has
   * forgotten it: it remembers the last {@link REMEMBERED_TOKENS}); see TokenSource.invalidate.
   */
  invalidate(onlyToken?: string): void;
  /** Cancels the retry timer and aborts the in-flight fetch; later calls reject. */
  close(): void;
  summary(): ScopeCacheSummary;
}

export interface ScopeCyclerOptions {
  scope: string;
  fetchToken: FetchToken;
  timing: CycleTiming;
  events: Pick<TypedEventEmitter<TokenSourceEvent>, "emit">;
  /** Randomness for the backoff jitter; tests pass a constant. */
  random?: () => number;
}

type Reason = "cold" | "refresh" | "expired" | "invalidated";

/** How many recently issued tokens a cycler remembers for invalidate(onlyToken). */
export const REMEMBERED_TOKENS = 16;

interface FetchState {
  /** The invalidations so far when the fetch started: its place before or after each of them. */
  readonly generation: number;
  readonly reason: Reason;
  readonly startedAt: number;
  /** Some caller awaited this fetch (so its failure was seen by someone). */
  callerVisible: boolean;
}

/**
 * When to refresh and how long to hand out a token, from the moment it was acquired.
 * Effective refresh window = min(refreshWindowInMs, 3/4 of the lifetime); effective minimum
 * validity = min(minimumValidityInMs, 1/6 of the lifetime). So a 60-minute token with the defaults
 * is refreshed from minute 15 and handed out until minute 50, and a 5-minute token is refreshed from
 * 1:15 and handed out until 4:10: refreshing always starts before the token stops being handed out.
 * A `refreshAfterTimestamp` in the token's future moves the refresh point earlier, never later.
 */
export function computeSchedule(
  token: Pick<AccessToken, "expiresOnTimestamp" | "refreshAfterTimestamp">,
  now: number,
  timing: Pick<CycleTiming, "refreshWindowInMs" | "minimumValidityInMs">,
): { refreshAtTimestamp: number; usableUntilTimestamp: number; refreshAfterTimestamp: number | undefined } {
  const expires = token.expiresOnTimestamp;
  const lifetime = Math.max(0, expires - now);
  const window = Math.min(timing.refreshWindowInMs, (lifetime * 3) / 4);
  const minimumValidity = Math.min(timing.minimumValidityInMs, lifetime / 6);
  const hint = token.refreshAfterTimestamp;
  const refreshAfterTimestamp =
    typeof hint === "number" && Number.isFinite(hint) && hint > now && hint < expires ? hint : undefined;
  return {
    refreshAtTimestamp: Math.min(expires - window, refreshAfterTimestamp ?? Number.POSITIVE_INFINITY),
    usableUntilTimestamp: expires - minimumValidity,
    refreshAfterTimestamp,
  };
}

export function createScopeCycler(options: ScopeCyclerOptions): ScopeCycler {
  const { scope, fetchToken, timing, events } = options;
  const aborter = new AbortController();
  let current: CachedToken | undefined;
  let inFlight: { state: FetchState; promise: Promise<CachedToken> } | undefined;
  /**
   * Bumped by every effective invalidate(): a fetch from an older generation never fills the cache,
   * and a token fetched in an older generation was covered by an invalidation (the "floor").
   * A counter rather than a clock: two events in the same millisecond still have an order.
   */
  let generation = 0;
  let invalidatedSinceLastFetch = false;
  /** Recently issued tokens -> the generation their fetch started in (insertion order = age). */
  const issued = new Map<string, number>();
  /** Whether a token was issued before the last invalidation (so it may have been refused). */
  const isDropped = (token: string): boolean => (issued.get(token) ?? generation) < generation;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryAttempt = 0;
  let closed = false;

  const isUsable = (token: CachedToken | undefined, now: number): token is CachedToken =>
    token !== undefined && now < token.usableUntilTimestamp;

  function getToken(abortSignal?: GetTokenOptions["abortSignal"]): Promise<CachedToken> {
    if (closed) return Promise.reject(closedError(scope));
    const now = Date.now();
    const token = current;
    if (isUsable(token, now)) {
      // "Should refresh": start it in the background, keep serving. While a retry is scheduled the
      // backoff decides when to try again, not the callers.
      if (now >= token.refreshAtTimestamp && inFlight === undefined && retryTimer === undefined) {
        startFetch("refresh", true);
      }
      return Promise.resolve(token);
    }
    // "Must refresh": join the fetch in flight, or start one; a scheduled retry would only be later.
    cancelRetry();
    const fetch =
      inFlight ?? startFetch(invalidatedSinceLastFetch ? "invalidated" : token ? "expired" : "cold", false);
    fetch.state.callerVisible = true;
    return abortSignal === undefined ? fetch.promise : untilAborted(fetch.promise, abortSignal);
  }

  function startFetch(reason: Reason, background: boolean): NonNullable<typeof inFlight> {
    const state: FetchState = { generation, reason, startedAt: Date.now(), callerVisible: !background };
    invalidatedSinceLastFetch = false;
    const token = current;
    const promise = run(state);
    // Nobody may await a background refresh: its failure is handled in onFailure, never unhandled.
    promise.catch(() => {});
    const fetch = { state, promise };
    inFlight = fetch;
    // After recording the fetch, so a listener calling invalidate() detaches it like any other.
    if (reason === "refresh") {
      events.emit("refresh-started", () => ({
        type: "refresh-started",
        scope,
        trigger:
          token?.refreshAfterTimestamp !== undefined && state.startedAt >= token.refreshAfterTimestamp
            ? "refresh-after"
            : "refresh-window",
      }));
    }
    events.emit("acquire-started", () => ({ type: "acquire-started", scope, reason }));
    return fetch;
  }

  async function run(state: FetchState): Promise<CachedToken> {
    let fetched: FetchedToken;
    try {
      // Always awaited (a synchronous throw becomes a rejection), so onFailure runs after
      // startFetch has recorded this fetch as in flight and can clear it.
      fetched = checkFetched(await callFetch());
    } catch (error) {
      onFailure(state, error);
      throw error;
    }
    return onSuccess(state, fetched);
  }

  function callFetch(): Promise<FetchedToken> {
    try {
      const expiry = current?.accessToken.expiresOnTimestamp;
      return fetchToken(scope, {
        abortSignal: aborter.signal,
        ...(generation === 0 ? {} : { isDropped }),
        ...(expiry === undefined ? {} : { cachedTokenExpiresOnTimestamp: expiry }),
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function checkFetched(fetched: FetchedToken): FetchedToken {
    const token = fetched?.token;
    if (typeof token?.token !== "string" || token.token === "") {
      throw new EntraSqlError(
        `@entra-sql/core: ${fetched?.source ?? "the credential"} returned no token for "${scope}".`,
      );
    }
    if (typeof token.expiresOnTimestamp !== "number" || !Number.isFinite(token.expiresOnTimestamp)) {
      throw new EntraSqlError(
        `@entra-sql/core: ${fetched.source} returned a token for "${scope}" without a valid expiresOnTimestamp.`,
      );
    }
    // The token's own `exp` when it is earlier than the credential's estimate (token-expiry-claim.ts):
    // validity, refresh and the connections' token bound then follow what the server checks.
    const claimed = expiryClaimOf(token.token);
    if (claimed !== undefined && claimed < token.expiresOnTimestamp) {
      return { ...fetched, token: { ...token, expiresOnTimestamp: claimed } };
    }
    return fetched;
  }

  function onSuccess(state: FetchState, fetched: FetchedToken): CachedToken {
    const now = Date.now();
    if (inFlight?.state === state) inFlight = undefined;
    const cached = toCachedToken(fetched, now);
    remember(cached.accessToken.token, state.generation);
    // A fetch started before invalidate() still answers the callers that waited for it, but must not
    // put back into the cache a token the server may already have rejected.
    if (state.generation === generation && !closed) {
      current = cached;
      retryAttempt = 0;
    }
    if (closed) return cached;
    events.emit("token-acquired", () => ({
      type: "token-acquired",
      scope,
      source: cached.source,
      reason: state.reason,
      expiresOnTimestamp: cached.accessToken.expiresOnTimestamp,
      refreshAfterTimestamp: cached.refreshAfterTimestamp,
      durationInMs: now - state.startedAt,
    }));
    return cached;
  }

  function onFailure(state: FetchState, error: unknown): void {
    if (inFlight?.state === state) inFlight = undefined;
    if (closed) return;
    const now = Date.now();
    const fresh = state.generation === generation;
    const token = current;
    if (fresh && isUsable(token, now)) {
      // Background refresh failed while the current token is still good: retry with backoff, but no
      // later than the moment the token stops being handed out.
      const retryInMs = Math.min(
        backoffDelay(retryAttempt, {
          initialDelayInMs: timing.retryInitialDelayInMs,
          maxDelayInMs: timing.retryMaxDelayInMs,
          ...(options.random ? { random: options.random } : {}),
        }),
        token.usableUntilTimestamp - now,
      );
      retryAttempt += 1;
      scheduleRetry(retryInMs);
      events.emit("refresh-failed", () => ({
        type: "refresh-failed",
        scope,
        error: eventError(error),
        retryInMs,
        currentExpiresOnTimestamp: token.accessToken.expiresOnTimestamp,
      }));
      return;
    }
    retryAttempt = 0;
    if (fresh || state.callerVisible) {
      events.emit("acquire-failed", () => ({
        type: "acquire-failed",
        scope,
        error: eventError(error),
        durationInMs: now - state.startedAt,
      }));
    }
  }

  function scheduleRetry(delayInMs: number): void {
    cancelRetry();
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || inFlight !== undefined) return;
      startFetch(isUsable(current, Date.now()) ? "refresh" : "expired", true);
    }, delayInMs);
    // Never keep the process alive for a refresh nobody is waiting for.
    retryTimer.unref?.();
  }

  function cancelRetry(): void {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
  }

  /** Records the latest generation a token was fetched in, keeping the last REMEMBERED_TOKENS. */
  function remember(token: string, fetchedIn: number): void {
    const known = issued.get(token);
    issued.delete(token);
    issued.set(token, Math.max(known ?? fetchedIn, fetchedIn));
    for (const oldest of issued.keys()) {
      if (issued.size <= REMEMBERED_TOKENS) break;
      issued.delete(oldest);
    }
  }

  /** Drops the cached token and detaches the fetch in flight: the next caller starts a new fetch. */
  function drop(): void {
    generation += 1;
    current = undefined;
    inFlight = undefined;
    cancelRetry();
    retryAttempt = 0;
    invalidatedSinceLastFetch = true;
    events.emit("token-invalidated", () => ({ type: "token-invalidated", scope }));
  }

  function toCachedToken(fetched: FetchedToken, now: number): CachedToken {
    const { token } = fetched;
    const schedule = computeSchedule(token, now, timing);
    const accessToken: AccessToken = {
      token: token.token,
      expiresOnTimestamp: token.expiresOnTimestamp,
      ...(schedule.refreshAfterTimestamp === undefined
        ? {}
        : { refreshAfterTimestamp: schedule.refreshAfterTimestamp }),
      ...(token.tokenType === undefined ? {} : { tokenType: token.tokenType }),
    };
    return Object.freeze({
      accessToken: Object.freeze(withRedactedView(accessToken)),
      source: fetched.source,
      scope,
      acquiredAtTimestamp: now,
      ...schedule,
    });
  }

  return {
    getToken,
    invalidate(onlyToken) {
      if (closed) return;
      if (onlyToken !== undefined && current?.accessToken.token !== onlyToken) {
        const fetchedIn = issued.get(onlyToken);
        // Never issued here (or forgotten): the cache holds a token fetched after the last
        // invalidation, and nothing says it is older than the refusal.
        if (fetchedIn === undefined) return;
        // An invalidation after its fetch started covered it: the cache and the fetch in flight
        // started after that one (ten logins refused with one token cause one refresh).
        if (fetchedIn < generation) return;
        // Otherwise the cache or the fetch in flight started in the same generation as the refused
        // token, i.e. before the refusal (a background refresh that finished first): drop them too.
      }
      drop();
    },
    close() {
      if (closed) return;
      closed = true;
      cancelRetry();
      current = undefined;
      inFlight = undefined;
      issued.clear();
      aborter.abort(closedError(scope));
    },
    summary() {
      const token = current;
      return {
        scope,
        source: token?.source,
        expiresOn: isoTime(token?.accessToken.expiresOnTimestamp),
        refreshFrom: isoTime(token?.refreshAtTimestamp),
        handedOutUntil: isoTime(token?.usableUntilTimestamp),
        fetching: inFlight !== undefined,
        retryScheduled: retryTimer !== undefined,
      };
    },
  };
}

/** toEventError, plus a scrub of anything token-shaped a third-party message might carry. */
function eventError(error: unknown): EventError {
  const { name, message } = toEventError(error);
  return { name, message: redactTokensIn(message) };
}

function closedError(scope: string): EntraSqlError {
  return new EntraSqlError(`@entra-sql/core: the token source is closed; no token for "${scope}".`);
}

/** The shared fetch, as seen by one caller who may give up waiting (the fetch goes on for the others). */
function untilAborted<T>(
  promise: Promise<T>,
  signal: NonNullable<GetTokenOptions["abortSignal"]>,
): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError());
    signal.addEventListener("abort", onAbort);
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function abortError(): Error {
  const error = new Error("@entra-sql/core: the token request was aborted.");
  error.name = "AbortError";
  return error;
}
