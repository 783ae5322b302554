import type { ConnectionLifecycle, RetryPool } from "./connection-lifecycle.js";

// The one retry after a 37396 must run on a connection that logged in after the refusal. Some drivers
// re-run a statement through their pool's own acquire (mssql's Request, Transaction and PreparedStatement
// ask their pool again, with a callback), so the adapter cannot pass that demand along as an argument:
// FreshConnections keeps it per requester until the pool's acquire takes it.

/**
 * `RetryPool.maxTries` for a pool of at most `max` connections (10, the drivers' default, when not a
 * number): every pooled connection may be older than the refusal, so one more than that.
 */
export const maxTriesFor = (max: unknown): number => (typeof max === "number" ? max : 10) + 1;

export class FreshConnections<C extends object> {
  readonly #since = new WeakMap<object, number>();

  constructor(readonly lifecycle: ConnectionLifecycle<C>) {}

  /**
   * A statement of `requester` refused with 37396 runs once more: reports `statement-retried` (`extra`:
   * the adapter's fields) and makes the next `acquire` for `requester` give a connection born after now.
   */
  retry(requester: object, extra?: object): void {
    this.#since.set(requester, Date.now());
    this.lifecycle.statementRetried(extra);
  }

  /**
   * For the pool's acquire: when `requester` is retrying, a connection that logged in after its refusal
   * (`ConnectionLifecycle.acquireBornAfter`); otherwise `undefined`, and the pool's own acquire serves it.
   */
  acquire(requester: object, pool: RetryPool<C>): Promise<C> | undefined {
    const since = this.#since.get(requester);
    if (since === undefined) return undefined;
    this.#since.delete(requester);
    return this.lifecycle.acquireBornAfter(since, pool);
  }
}
