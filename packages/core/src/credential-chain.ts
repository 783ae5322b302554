import type { AccessToken } from "@azure/core-auth";
import {
  buildCredentialSources,
  type CredentialSourceEntry,
  type IdentityOptions,
  validateCredentialSpec,
} from "./credential-presets.js";
import type { CredentialSpec } from "./credential-spec.js";
import { errorName } from "./error-graph.js";
import { type SourceFailure, TokenAcquisitionError } from "./errors.js";
import type { TokenSourceEvent } from "./events.js";
import { describeFailure, secretFreeError } from "./source-failure.js";

// The sticky credential chain: walks its sources in order, remembers the winner, and skips a source
// that failed with an authentication error (the Django recipe's "retry without the source that
// failed"; DefaultAzureCredential stops at such an error instead).
//
// Rules, per getToken call:
// 1. With a winner, only the winner is called. If it fails, it is recorded (source-failed) and the
//    chain is walked again from the top.
// 2. A walk tries the sources in order and skips (a) any source already tried in this call and (b)
//    excluded sources: those that failed with kind "authentication" less than
//    `exclusionInMs` ago (default 5 minutes). "unavailable" sources are never excluded: being
//    unavailable is cheap to find out and changes when someone runs `az login`.
// 3. If the walk finds nothing, the excluded sources are tried once more, in order, before giving
//    up: an exclusion only ever reorders the chain, it never makes getToken fail that could have
//    succeeded. (So a transient failure can at worst cost one extra attempt elsewhere.)
// 4. The first success becomes the winner (source-selected) and its exclusion, if any, is lifted.
//    When every source fails, the winner is cleared and TokenAcquisitionError lists each source
//    tried in this call with its kind, message and fix.
// An aborted call (options.abortSignal) stops at once and rethrows without recording anything.

export interface CredentialChain {
  /**
   * A token from the winner, or from the first source that works when there is none (or it failed).
   * `isDropped(token)`: whether the cache dropped that token (a server may have refused it); a
   * preset-built source that answers with such a token (from its own cache) is rebuilt once and asked
   * again.
   */
  getToken(scope: string, options?: ChainGetTokenOptions): Promise<{ token: AccessToken; source: string }>;
  /** Name of the source the last token came from; undefined before the first success or after all failed. */
  readonly activeSource: string | undefined;
}

export interface ChainGetTokenOptions {
  abortSignal?: AbortSignal;
  isDropped?: (token: string) => boolean;
  /** The expiry of the token the caller has cached, for the TokenAcquisitionError message. */
  cachedTokenExpiresOnTimestamp?: number;
}

export interface CredentialChainOptions {
  /** Options for the credentials built from presets (authority host, TLS trust, retries...). */
  identityOptions?: IdentityOptions;
  /** Receives source-selected and source-failed events. */
  emit: (event: TokenSourceEvent) => void;
  /**
   * How long a source that failed with an authentication error is left out of later walks, in ms
   * (it is still tried as a last resort). Default 5 minutes.
   */
  exclusionInMs?: number;
}

export const DEFAULT_EXCLUSION_IN_MS = 5 * 60_000;

/** Builds the chain for `spec`; validates it (InvalidOptionError) and builds every credential now. */
export function createCredentialChain(
  spec: CredentialSpec,
  options: CredentialChainOptions,
): CredentialChain {
  validateCredentialSpec(spec);
  const build = () => buildCredentialSources(spec, options.identityOptions);
  return new StickyCredentialChain(
    build(),
    build,
    options.emit,
    options.exclusionInMs ?? DEFAULT_EXCLUSION_IN_MS,
  );
}

interface Attempt {
  failures: SourceFailure[];
  errors: unknown[];
  tried: Set<CredentialSourceEntry>;
}

class StickyCredentialChain implements CredentialChain {
  readonly #sources: readonly CredentialSourceEntry[];
  /** Builds the sources anew (fresh credential instances with empty caches), for renewals. */
  readonly #rebuild: () => readonly CredentialSourceEntry[];
  /** Renewed sources (fresh credential instances), by source; a source not here uses itself. */
  readonly #renewed = new Map<CredentialSourceEntry, CredentialSourceEntry>();
  readonly #emit: (event: TokenSourceEvent) => void;
  readonly #exclusionInMs: number;
  /** Source -> time (epoch ms) until which it is left out of walks. */
  readonly #excludedUntil = new Map<CredentialSourceEntry, number>();
  #winner: CredentialSourceEntry | undefined;
  /** The last winner, kept after a total failure for source-selected's `previousSource`. */
  #previous: CredentialSourceEntry | undefined;

  constructor(
    sources: readonly CredentialSourceEntry[],
    rebuild: () => readonly CredentialSourceEntry[],
    emit: (event: TokenSourceEvent) => void,
    exclusionInMs: number,
  ) {
    this.#sources = sources;
    this.#rebuild = rebuild;
    this.#emit = emit;
    this.#exclusionInMs = exclusionInMs;
  }

  get activeSource(): string | undefined {
    return this.#winner?.name;
  }

  async getToken(
    scope: string,
    options: ChainGetTokenOptions = {},
  ): Promise<{ token: AccessToken; source: string }> {
    const attempt: Attempt = { failures: [], errors: [], tried: new Set() };
    const winner = this.#winner;
    if (winner) {
      const token = await this.#try(winner, scope, options, attempt);
      if (token) return { token, source: winner.name };
      if (this.#winner === winner) this.#winner = undefined;
    }
    const now = Date.now();
    const excluded: CredentialSourceEntry[] = [];
    for (const source of this.#sources) {
      if (attempt.tried.has(source)) continue;
      if ((this.#excludedUntil.get(source) ?? 0) > now) {
        excluded.push(source);
        continue;
      }
      const token = await this.#try(source, scope, options, attempt);
      if (token) return this.#select(source, token);
    }
    // Last resort: the excluded sources, once.
    for (const source of excluded) {
      if (attempt.tried.has(source)) continue;
      const token = await this.#try(source, scope, options, attempt);
      if (token) return this.#select(source, token);
    }
    this.#winner = undefined;
    const cause =
      attempt.errors.length === 1
        ? attempt.errors[0]
        : new AggregateError(attempt.errors, "every credential source failed");
    throw new TokenAcquisitionError(scope, attempt.failures, {
      cause,
      cachedTokenExpiresOnTimestamp: options.cachedTokenExpiresOnTimestamp,
    });
  }

  /** Calls one source; a token, or undefined after recording the failure. Rethrows on abort. */
  async #try(
    source: CredentialSourceEntry,
    scope: string,
    options: ChainGetTokenOptions,
    attempt: Attempt,
  ): Promise<AccessToken | undefined> {
    throwIfAborted(options.abortSignal);
    attempt.tried.add(source);
    let error: unknown;
    try {
      const getOptions = options.abortSignal ? { abortSignal: options.abortSignal } : {};
      this.#entryOf(source).transport?.reset();
      let token = await this.#entryOf(source).credential.getToken(scope, getOptions);
      if (token && options.isDropped?.(token.token) && this.#renew(source)) {
        // The credential's own cache answered with a token the cache dropped: a fresh instance has
        // an empty cache (msal-node caches per instance, except managed identity: process-wide).
        this.#entryOf(source).transport?.reset();
        token = await this.#entryOf(source).credential.getToken(scope, getOptions);
      }
      if (token) return token;
      // A TokenCredential may return null: "I have nothing" (DefaultAzureCredential's skipped sources do).
      error = Object.assign(new Error(`${source.name} returned no token`), {
        name: "CredentialUnavailableError",
      });
    } catch (caught) {
      if (options.abortSignal?.aborted) throw caught;
      error = caught;
    }
    // What the source's requests saw tells failures apart that msal reports alike (source-failure.ts).
    const observed = this.#entryOf(source).transport?.failures();
    const failure = describeFailure(observed ? { ...source, observed } : source, error);
    attempt.failures.push(failure);
    attempt.errors.push(secretFreeError(error, source.secrets));
    if (failure.kind === "authentication") this.#excludedUntil.set(source, Date.now() + this.#exclusionInMs);
    this.#emit({
      type: "source-failed",
      source: source.name,
      kind: failure.kind,
      error: { name: errorName(error) ?? "Error", message: failure.message },
      ...(failure.fix !== undefined && { fix: failure.fix }),
    });
    return undefined;
  }

  #entryOf(source: CredentialSourceEntry): CredentialSourceEntry {
    return this.#renewed.get(source) ?? source;
  }

  /** Replaces a preset-built source's credential with a fresh instance; false for user-given credentials. */
  #renew(source: CredentialSourceEntry): boolean {
    const fresh = this.#rebuild().find((entry) => entry.name === source.name);
    if (!fresh || fresh.credential === source.credential) return false;
    this.#renewed.set(source, fresh);
    return true;
  }

  #select(source: CredentialSourceEntry, token: AccessToken): { token: AccessToken; source: string } {
    this.#excludedUntil.delete(source);
    if (this.#winner !== source) {
      const previous = this.#winner ?? this.#previous;
      this.#winner = source;
      this.#previous = source;
      this.#emit({ type: "source-selected", source: source.name, previousSource: previous?.name });
    }
    return { token, source: source.name };
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof Error
    ? reason
    : Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
}
