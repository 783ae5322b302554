import {
  isUnnamedRefusal,
  nameRefusal,
  type SessionTokenExpiredDuring,
  SessionTokenExpiredError,
} from "./session-token-expired-error.js";

// Drivers report a statement's outcome to a node-style callback (tedious' `beginTransaction`, mssql's
// `_commit`, ...) or, streamed, as 'error' events. Wrapped here, either gives the caller a 37396 refusal
// as a SessionTokenExpiredError saying what to do, and every other outcome unchanged.

/** A driver's completion callback: an error first, then the results. */
export type NodeCallback = (error?: unknown, ...rest: unknown[]) => void;

/**
 * `callback`, with a 37396 refusal named for `during` (`cause`: the driver's error). `onNamed` sees the
 * named error and the driver's before `callback` does.
 * @example super._commit(namingRefusals(callback, "transaction", "@entra-sql/mssql"));
 */
export function namingRefusals(
  callback: NodeCallback,
  during: SessionTokenExpiredDuring,
  packageName: string,
  onNamed?: (named: SessionTokenExpiredError, refusal: unknown) => void,
): NodeCallback {
  return (error, ...rest) => {
    if (!isUnnamedRefusal(error)) return callback(error, ...rest);
    const named = new SessionTokenExpiredError(during, { cause: error, packageName });
    onNamed?.(named, error);
    callback(named, ...rest);
  };
}

/**
 * The event-emitter counterpart of `namingRefusals`: a 37396 'error' event of `emitter` (a streamed
 * request a driver returns, say) is emitted named for `during`.
 */
export function namingRefusalEvents(
  emitter: unknown,
  during: SessionTokenExpiredDuring,
  packageName: string,
): void {
  if (typeof emitter !== "object" || emitter === null) return;
  const target = emitter as { emit?: (event: string | symbol, ...args: unknown[]) => boolean };
  const emit = target.emit;
  if (typeof emit !== "function") return;
  target.emit = function (event, ...args) {
    if (event !== "error" || !isUnnamedRefusal(args[0])) return emit.call(this, event, ...args);
    return emit.call(this, event, nameRefusal(args[0], during, packageName), ...args.slice(1));
  };
}
