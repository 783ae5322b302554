import {
  isAccessTokenExpiredOnSession,
  isSessionTokenExpiredError,
  type SessionTokenExpiredDuring,
  SessionTokenExpiredError,
} from "@entra-sql/driver-kit";
import { PACKAGE_NAME } from "./options.js";

// Error 37396 as the Request, Transaction and PreparedStatement subclasses see it: the server refused a
// statement (without running it) on a session whose token expired. The pool's lifecycle has already
// retired the connection (from tedious' `errorMessage`); these helpers decide what the caller gets.

/** A driver error saying 37396 that is not yet named (a named one is never wrapped again). */
export function isRefusal(error: unknown): boolean {
  return (
    error !== undefined &&
    error !== null &&
    !isSessionTokenExpiredError(error) &&
    isAccessTokenExpiredOnSession(error)
  );
}

/** A 37396 refusal becomes a SessionTokenExpiredError (`cause`: the driver error); anything else is kept. */
export function named(error: unknown, during: SessionTokenExpiredDuring): unknown {
  return isRefusal(error)
    ? new SessionTokenExpiredError(during, { cause: error, packageName: PACKAGE_NAME })
    : error;
}

/** What holds the connection of a request whose parent is not the pool (a pool of another module: neither). */
export function holderOf(parent: unknown): "transaction" | "prepared-statement" | undefined {
  if (typeof parent !== "object" || parent === null) return undefined;
  const methods = parent as { unprepare?: unknown; commit?: unknown };
  if (typeof methods.unprepare === "function") return "prepared-statement";
  if (typeof methods.commit === "function") return "transaction";
  return undefined;
}
