import { isAccessTokenExpiredOnSession } from "@entra-sql/core";
import { isSessionTokenExpiredError, SessionTokenExpiredError } from "./errors.js";

// Error 37396 at statement time (DESIGN.md "Why the token bounds the connection"): the server
// revalidated the token of an open session, found it expired (or the principal revoked), and refused
// the statement without running it. The session cannot take a new token, so:
// - the pool (entra-connection-pool.ts) listens to each connection's `errorMessage` and marks the
//   connection retired: it is closed when it comes back and never handed out again;
// - entra-request.ts retries a refused statement ONCE when its parent is the pool (no transaction),
//   on a connection that logged in after the refusal (the pool's `acquire` enforces it); streamed
//   requests and bulk loads included;
// - entra-transaction.ts: inside a transaction the caller gets a SessionTokenExpiredError; a refused
//   BEGIN is retried once, a refused COMMIT is named, and `rollback()` of the dead transaction resolves;
// - entra-prepared-statement.ts: a prepared statement holds its connection like a transaction; a refused
//   `prepare()` on the pool is retried once, a refused execute is named, `unprepare()` releases the
//   dead connection.
// mssql creates its requests with the driver's global Request class (`shared.driver.Request`), so the
// pool's `request()`, `query()`, `batch()` and `transaction()` are overridden to use these classes.
// This file: what they share.

/** What the pool offers the request, transaction and prepared-statement classes (keyed by a symbol: not public API). */
export const SESSION_EXPIRY = Symbol("@entra-sql/mssql session expiry");

export interface SessionExpiryHooks {
  /** The next acquire by `requester` must get a connection that logged in after `since` (epoch ms). */
  requireFreshConnection(requester: object, since: number): void;
  /** True when a statement on this connection was refused with 37396. */
  isSessionExpired(connection: unknown): boolean;
}

export type Callback = (error?: unknown, ...rest: unknown[]) => void;
export type During = SessionTokenExpiredError["during"];

/** The pool's hooks when `parent` is one of this package's pools, else `undefined`. */
export function hooksOf(parent: unknown): SessionExpiryHooks | undefined {
  if (typeof parent !== "object" || parent === null) return undefined;
  const hooks = (parent as { [SESSION_EXPIRY]?: SessionExpiryHooks })[SESSION_EXPIRY];
  return typeof hooks === "object" ? hooks : undefined;
}

/**
 * What holds the connection of a request whose parent is not the pool: a prepared statement (it has
 * `unprepare`), a transaction (it has `commit`), or neither (a pool of another module: left alone).
 */
export function holderOf(parent: unknown): "transaction" | "prepared-statement" | undefined {
  if (typeof parent !== "object" || parent === null) return undefined;
  const methods = parent as { unprepare?: unknown; commit?: unknown };
  if (typeof methods.unprepare === "function") return "prepared-statement";
  if (typeof methods.commit === "function") return "transaction";
  return undefined;
}

/**
 * A driver error saying 37396, not yet named. core's check walks `cause`, so a SessionTokenExpiredError
 * matches it too; it is excluded here so that an error named once (by a request inside a prepared
 * statement, say) is not wrapped again.
 */
export function isRefusal(error: unknown): boolean {
  return (
    error !== undefined &&
    error !== null &&
    !isSessionTokenExpiredError(error) &&
    isAccessTokenExpiredOnSession(error)
  );
}

/** A 37396 refusal becomes a SessionTokenExpiredError (`cause`: the driver error); anything else is kept. */
export function named(error: unknown, during: During): unknown {
  return isRefusal(error) ? new SessionTokenExpiredError(during, { cause: error }) : error;
}
