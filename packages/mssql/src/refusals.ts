import { type NodeCallback, runWithOneRetry } from "@entra-sql/driver-kit";
import { poolLinkOf } from "./entra-connection-pool.js";
import { type EntraMssqlEvent, PACKAGE_NAME } from "./options.js";

// Error 37396 as the Request, Transaction and PreparedStatement see it (the pool's lifecycle has already
// retired the connection); these decide what the caller gets.

/** What holds the connection of a request whose parent is not the pool (another module's pool: neither). */
export function holderOf(parent: unknown): "transaction" | "prepared-statement" | undefined {
  const methods = (typeof parent === "object" && parent !== null ? parent : {}) as Record<string, unknown>;
  if (typeof methods.unprepare === "function") return "prepared-statement";
  return typeof methods.commit === "function" ? "transaction" : undefined;
}

export type Method = Extract<EntraMssqlEvent, { type: "statement-retried" }>["method"];

/**
 * Runs a statement of `requester` with driver-kit's one retry: on this module's pool a refused one runs
 * once more on a fresh connection; held by a transaction or prepared statement, it is named for that.
 */
export function runStatement(
  requester: { parent: unknown },
  method: Method,
  run: (callback: NodeCallback, attempt: 1 | 2) => void,
  done: NodeCallback,
  refused?: (error: unknown) => boolean,
): void {
  const { parent } = requester;
  const settings = { fresh: poolLinkOf(parent), requester, extra: { method }, holder: holderOf(parent) };
  runWithOneRetry({ ...settings, refused, packageName: PACKAGE_NAME }, run, done);
}
