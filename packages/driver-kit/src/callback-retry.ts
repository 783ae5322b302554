import { type NodeCallback, namingRefusals } from "./refusal-naming.js";
import { isUnnamedRefusal, type SessionTokenExpiredDuring } from "./session-token-expired-error.js";

// The one retry after 37396 for drivers whose statements are callback-shaped and re-run through the
// pool's own acquire (mssql's `_query`, `_begin`, `_prepare`); promise-shaped drivers use
// `ConnectionLifecycle.retryOnFreshConnection`, streams `streamWithOneRetry`. The server refused before
// running anything, so a statement the pool gave a connection runs once more on a fresh one; one whose
// connection a transaction or prepared statement holds cannot run alone elsewhere, and is named.

export interface CallbackRetrySettings {
  /**
   * The pool's FreshConnections when the statement got its connection from the adapter's pool;
   * `undefined`: never run again.
   */
  fresh: { retry(requester: object, extra?: object): void } | undefined;
  /** What acquires the statement's connection (its next acquire must get a fresh one). */
  requester: object;
  /** The adapter's fields of `statement-retried`. */
  extra?: object;
  /** Without `fresh`: what holds the connection, the name of a refusal; `undefined`: left as is. */
  holder: SessionTokenExpiredDuring | undefined;
  packageName: string;
  /** Whether the first run was refused; default: its error is a 37396 not named yet. */
  refused?: ((error: unknown) => boolean) | undefined;
}

/**
 * Runs the statement (`run`: one run, `attempt` 1 or 2) and gives `done` the outcome: with `fresh`, a
 * refused first run runs once more and a second refusal is named "retry"; without, a refusal is named
 * for its `holder`.
 * @example runWithOneRetry({ fresh, requester: this, holder: undefined, packageName }, (cb) => super._begin(cb), done);
 */
export function runWithOneRetry(
  settings: CallbackRetrySettings,
  run: (callback: NodeCallback, attempt: 1 | 2) => void,
  done: NodeCallback,
): void {
  const { fresh, holder, packageName, refused = isUnnamedRefusal } = settings;
  const notRetried =
    fresh === undefined && holder !== undefined ? namingRefusals(done, holder, packageName) : done;
  run((error, ...rest) => {
    if (fresh === undefined || !refused(error)) return notRetried(error, ...rest);
    fresh.retry(settings.requester, settings.extra);
    run(namingRefusals(done, "retry", packageName), 2);
  }, 1);
}
