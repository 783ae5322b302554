import { inspect } from "node:util";

// Runtime knobs tests turn while the IdP runs (token lifetime, refresh hint, clock offset). Values
// are validated on assignment so a typo in a test fails at the line that made it, not as an odd
// token three calls later.

export interface LocalEntraSettingsValues {
  /** Lifetime of every access token the endpoints issue, seconds. Default 3600. */
  tokenLifetimeSeconds: number;
  /**
   * Lifetime of managed-identity tokens, seconds; `undefined` means `tokenLifetimeSeconds`. Real
   * managed-identity tokens live about 24 h, which changes how msal-node refreshes them.
   */
  managedIdentityTokenLifetimeSeconds: number | undefined;
  /** When set, token endpoint responses carry `refresh_in` (MSAL sets `refreshAfterTimestamp`). */
  refreshInSeconds: number | undefined;
  /** The IdP's notion of now is `Date.now() + clockOffsetMs`; used for iat/nbf/exp and checks. */
  clockOffsetMs: number;
  /** Clock skew tolerated on client assertions' nbf/exp, seconds. Default 300 like Entra. */
  clockSkewToleranceSeconds: number;
}

export const DEFAULT_SETTINGS: LocalEntraSettingsValues = {
  tokenLifetimeSeconds: 3600,
  managedIdentityTokenLifetimeSeconds: undefined,
  refreshInSeconds: undefined,
  clockOffsetMs: 0,
  clockSkewToleranceSeconds: 300,
};

function positiveSeconds(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`settings.${name} must be a positive number of seconds, got ${String(value)}`);
  }
  return value;
}

function optionalPositiveSeconds(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : positiveSeconds(name, value);
}

/** The mutable settings object exposed as `entra.settings`. */
export class LocalEntraSettings implements LocalEntraSettingsValues {
  #values: LocalEntraSettingsValues = { ...DEFAULT_SETTINGS };
  readonly #initial: LocalEntraSettingsValues;

  constructor(initial: Partial<LocalEntraSettingsValues> = {}) {
    for (const key of Object.keys(initial)) {
      if (!(key in DEFAULT_SETTINGS)) throw new TypeError(`Unknown local Entra setting '${key}'`);
    }
    // Through the setters, so initial values are validated like runtime changes.
    Object.assign(this, initial);
    this.#initial = { ...this.#values };
  }

  get tokenLifetimeSeconds(): number {
    return this.#values.tokenLifetimeSeconds;
  }
  set tokenLifetimeSeconds(value: number) {
    this.#values.tokenLifetimeSeconds = positiveSeconds("tokenLifetimeSeconds", value);
  }

  get managedIdentityTokenLifetimeSeconds(): number | undefined {
    return this.#values.managedIdentityTokenLifetimeSeconds;
  }
  set managedIdentityTokenLifetimeSeconds(value: number | undefined) {
    this.#values.managedIdentityTokenLifetimeSeconds = optionalPositiveSeconds(
      "managedIdentityTokenLifetimeSeconds",
      value,
    );
  }

  get refreshInSeconds(): number | undefined {
    return this.#values.refreshInSeconds;
  }
  set refreshInSeconds(value: number | undefined) {
    this.#values.refreshInSeconds = optionalPositiveSeconds("refreshInSeconds", value);
  }

  get clockOffsetMs(): number {
    return this.#values.clockOffsetMs;
  }
  set clockOffsetMs(value: number) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new RangeError(`settings.clockOffsetMs must be a finite number, got ${String(value)}`);
    }
    this.#values.clockOffsetMs = value;
  }

  get clockSkewToleranceSeconds(): number {
    return this.#values.clockSkewToleranceSeconds;
  }
  set clockSkewToleranceSeconds(value: number) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`settings.clockSkewToleranceSeconds must be >= 0, got ${String(value)}`);
    }
    this.#values.clockSkewToleranceSeconds = value;
  }

  /** Back to the values the IdP was started with (`startLocalEntra({ settings })`): for afterEach. */
  reset(): void {
    this.#values = { ...this.#initial };
  }

  /** The IdP's current time in epoch milliseconds. */
  now(): number {
    return Date.now() + this.#values.clockOffsetMs;
  }

  toJSON(): LocalEntraSettingsValues {
    return { ...this.#values };
  }

  [inspect.custom](): LocalEntraSettingsValues {
    return this.toJSON();
  }
}
