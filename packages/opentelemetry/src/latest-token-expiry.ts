import type { ObservableResult } from "@opentelemetry/api";
import { ATTRIBUTE_NAMES } from "./metrics.js";

/**
 * The expiry of the latest token fetched for each scope, observed as seconds from now: the gauge goes
 * down as time passes and jumps back up when a new token arrives. An invalidated scope has no token
 * until the next fetch, so it is not reported.
 */
export class LatestTokenExpiry {
  readonly #expiresOnByScope = new Map<string, number>();

  acquired(scope: string, expiresOnTimestamp: number): void {
    this.#expiresOnByScope.set(scope, expiresOnTimestamp);
  }

  invalidated(scope: string): void {
    this.#expiresOnByScope.delete(scope);
  }

  clear(): void {
    this.#expiresOnByScope.clear();
  }

  /** The gauge's callback. */
  readonly observe = (result: ObservableResult): void => {
    const now = Date.now();
    for (const [scope, expiresOnTimestamp] of this.#expiresOnByScope) {
      result.observe((expiresOnTimestamp - now) / 1000, { [ATTRIBUTE_NAMES.tokenScope]: scope });
    }
  };
}
