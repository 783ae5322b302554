import { isUnnamedRefusal, nameRefusal, type SessionTokenExpiredDuring } from "@entra-sql/driver-kit";
import { poolLinkOf } from "./entra-connection-pool.js";
import type { Callback } from "./mssql-driver.js";
import { PACKAGE_NAME } from "./options.js";

// Error 37396 as the Request, Transaction and PreparedStatement subclasses see it. The pool's lifecycle
// has already retired the connection (from tedious' `errorMessage`); these decide what the caller gets.

export const isRefusal = isUnnamedRefusal;

export const named = (error: unknown, during: SessionTokenExpiredDuring): unknown =>
  nameRefusal(error, during, PACKAGE_NAME);

/** What holds the connection of a request whose parent is not the pool (another module's pool: neither). */
export function holderOf(parent: unknown): "transaction" | "prepared-statement" | undefined {
  const methods = (typeof parent === "object" && parent !== null ? parent : {}) as Record<string, unknown>;
  if (typeof methods.unprepare === "function") return "prepared-statement";
  return typeof methods.commit === "function" ? "transaction" : undefined;
}

/**
 * Runs `call` (a BEGIN or a prepare: nothing ran, nothing is held when it is refused) and, when the pool
 * refused it with 37396, once more on a connection that logged in after the refusal; a second refusal is
 * named "retry". Other outcomes go to `done` through `notRetried`.
 */
export function withOneRetry(
  requester: { parent: unknown },
  method: "begin" | "prepare",
  call: (callback: Callback) => void,
  done: Callback,
  notRetried: (error: unknown) => unknown = (error) => error,
): void {
  call((error, ...rest) => {
    const pool = poolLinkOf(requester.parent);
    if (!isRefusal(error) || pool === undefined) {
      done(notRetried(error), ...rest);
      return;
    }
    pool.requireFreshConnection(requester, Date.now());
    pool.lifecycle.statementRetried({ method });
    call((second, ...more) => done(named(second, "retry"), ...more));
  });
}
