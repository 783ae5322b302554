import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { AuthenticationRequiredError } from "@azure/identity";

// Hand-written counting fakes for unit tests. They read the clock through Date.now and wait with
// setTimeout, so `vi.useFakeTimers()` drives them. Tokens look like real JWTs ("eyJ...") and are
// distinct in every segment, so a test can assert that no token, nor any part of one, leaks.

/** A JWT-shaped fake token: header, payload (carrying `serial`) and signature, all distinct per serial. */
export function fakeJwt(serial: number, scope = "https://database.windows.net/.default"): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return [
    part({ alg: "RS256", typ: "JWT", kid: `fake-key-${serial}` }),
    part({
      aud: scope.replace(/\/?\.default$/, ""),
      oid: `00000000-0000-0000-0000-${String(serial).padStart(12, "0")}`,
    }),
    Buffer.from(`fake-signature-${serial}-${"x".repeat(24)}`).toString("base64url"),
  ].join(".");
}

export interface FakeCredentialOptions {
  /** Lifetime of each token, in ms. Default 60 minutes. */
  lifetimeInMs?: number;
  /** When set, tokens carry `refreshAfterTimestamp = issue time + this`. */
  refreshAfterInMs?: number;
  /** How long each call takes, in ms (fake-timer time). Default 0. */
  latencyInMs?: number;
}

interface HeldCall {
  release: () => void;
}

/** A TokenCredential that counts its calls and can be told to fail, or to hold calls until released. */
export class FakeClockCredential implements TokenCredential {
  /** Every call, in order: the scopes asked for and when. */
  readonly calls: { scopes: string | string[]; atTimestamp: number }[] = [];
  /** Every token handed out, in order. */
  readonly issued: string[] = [];
  lifetimeInMs: number;
  refreshAfterInMs: number | undefined;
  latencyInMs: number;
  #failures: unknown[] = [];
  #failEvery: unknown;
  #holding = false;
  #held: HeldCall[] = [];

  constructor(options: FakeCredentialOptions = {}) {
    this.lifetimeInMs = options.lifetimeInMs ?? 60 * 60_000;
    this.refreshAfterInMs = options.refreshAfterInMs;
    this.latencyInMs = options.latencyInMs ?? 0;
  }

  get callCount(): number {
    return this.calls.length;
  }

  /** The next `times` calls fail with `error` (decided when each call completes). */
  failNext(error: unknown, times = 1): this {
    for (let i = 0; i < times; i += 1) this.#failures.push(error);
    return this;
  }

  /** Every call fails with `error` until {@link recover}. */
  failAlways(error: unknown): this {
    this.#failEvery = error;
    return this;
  }

  recover(): this {
    this.#failEvery = undefined;
    this.#failures = [];
    return this;
  }

  /** From now on, calls wait (after their latency) until {@link release}. */
  hold(): this {
    this.#holding = true;
    return this;
  }

  /** Lets every held call complete, and stops holding. Returns how many were released. */
  release(): number {
    this.#holding = false;
    const held = this.#held.splice(0);
    for (const call of held) call.release();
    return held.length;
  }

  /** Lets only the most recent held call complete (to finish calls out of order); keeps holding. */
  releaseNewest(): void {
    this.#held.pop()?.release();
  }

  get heldCount(): number {
    return this.#held.length;
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.calls.push({ scopes, atTimestamp: Date.now() });
    const serial = this.calls.length;
    if (this.latencyInMs > 0) await delay(this.latencyInMs, options?.abortSignal);
    if (this.#holding) {
      await abortable(new Promise<void>((release) => this.#held.push({ release })), options?.abortSignal);
    }
    const failure = this.#failures.length > 0 ? this.#failures.shift() : this.#failEvery;
    if (failure !== undefined) throw failure;
    const now = Date.now();
    const scope = Array.isArray(scopes) ? (scopes[0] ?? "") : scopes;
    const token = fakeJwt(serial, scope);
    this.issued.push(token);
    return {
      token,
      expiresOnTimestamp: now + this.lifetimeInMs,
      ...(this.refreshAfterInMs === undefined ? {} : { refreshAfterTimestamp: now + this.refreshAfterInMs }),
      tokenType: "Bearer",
    };
  }
}

/**
 * An error shaped as @azure/identity 4.14 throws it when Entra ID's token endpoint answers 503: an
 * AuthenticationRequiredError whose `cause` is msal-node's ServerError (`errorCode`, `status`).
 * The chain reports it as kind "transient".
 */
export function outage(message = "the identity endpoint answered 503"): Error {
  const serverError = Object.assign(new Error(`temporarily_unavailable: ${message}`), {
    name: "ServerError",
    errorCode: "temporarily_unavailable",
    status: 503,
  });
  return new AuthenticationRequiredError({
    scopes: ["https://database.windows.net//.default"],
    message: `temporarily_unavailable: ${message}`,
    cause: serverError,
  });
}

/** Waits `ms` (fake-timer time); an abort rejects at once and clears the timer. */
function delay(ms: number, signal: GetTokenOptions["abortSignal"]): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wait = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return abortable(wait, signal).finally(() => clearTimeout(timer));
}

function abortable<T>(promise: Promise<T>, signal: GetTokenOptions["abortSignal"]): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort);
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
