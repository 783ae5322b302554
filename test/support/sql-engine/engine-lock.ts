import { sqlErrors } from "./errors.js";
import type { SqlServerError } from "./types.js";

// PGlite is one connection, so the engine is one lock: a batch holds it while it runs, and a session
// inside a transaction keeps holding it until COMMIT/ROLLBACK. Other sessions queue in FIFO order; a
// waiter gives up after its lock timeout with SQL Server's error 1222, as SET LOCK_TIMEOUT makes a
// blocked statement do (SQL Server would block only on conflicting rows; here any statement waits).

interface Waiter {
  owner: object;
  resolve: () => void;
  reject: (error: SqlServerError) => void;
  timer?: NodeJS.Timeout;
}

export class EngineLock {
  private owner: object | undefined;
  private readonly queue: Waiter[] = [];

  holder(): object | undefined {
    return this.owner;
  }

  /** Resolves when `owner` holds the lock (immediately if it already does); timeoutMs < 0 waits forever. */
  acquire(owner: object, timeoutMs: number): Promise<void> {
    if (this.owner === owner) return Promise.resolve();
    if (this.owner === undefined && this.queue.length === 0) {
      this.owner = owner;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { owner, resolve, reject };
      if (timeoutMs >= 0) {
        waiter.timer = setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(sqlErrors.lockTimeout());
        }, timeoutMs);
      }
      this.queue.push(waiter);
    });
  }

  release(owner: object): void {
    if (this.owner !== owner) return;
    this.owner = undefined;
    const next = this.queue.shift();
    if (next) {
      if (next.timer) clearTimeout(next.timer);
      this.owner = next.owner;
      next.resolve();
    }
  }

  /** Drops a waiting owner (session closed while queued). */
  cancel(owner: object, error: SqlServerError): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const waiter = this.queue[i] as Waiter;
      if (waiter.owner !== owner) continue;
      this.queue.splice(i, 1);
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  /** Fails every waiter (engine closing). */
  failAll(error: SqlServerError): void {
    for (const waiter of this.queue.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
