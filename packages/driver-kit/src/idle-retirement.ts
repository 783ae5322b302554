// Closes idle pooled connections when they pass their retire time, the way HikariCP's housekeeper
// does: a pool that is not used would otherwise keep sessions open past max age and past their token
// (checks on acquire and release never run). One timer for all idle connections, armed for the earliest
// retire time, unref'd so it never keeps a process alive.

/** Node's maximum timer delay; a later retire time is re-armed when this one fires. */
const MAX_DELAY_IN_MS = 2_147_483_647;

export class IdleRetirement<C> {
  readonly #retireAt = new Map<C, number>();
  readonly #onDue: (connection: C) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  /** `onDue` is called for each idle connection whose retire time has come; it retires and closes it. */
  constructor(onDue: (connection: C) => void) {
    this.#onDue = onDue;
  }

  add(connection: C, retireAt: number): void {
    if (!Number.isFinite(retireAt)) return;
    this.#retireAt.set(connection, retireAt);
    if (retireAt < this.#timerAt) this.#arm(retireAt);
  }

  delete(connection: C): void {
    this.#retireAt.delete(connection);
    if (this.#retireAt.size === 0) this.#disarm();
  }

  clear(): void {
    this.#retireAt.clear();
    this.#disarm();
  }

  #arm(at: number): void {
    this.#disarm();
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#sweep(), Math.min(MAX_DELAY_IN_MS, Math.max(0, at - Date.now())));
    this.#timer.unref?.();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [connection, retireAt] of [...this.#retireAt]) {
      if (retireAt <= now) {
        this.#retireAt.delete(connection);
        this.#onDue(connection);
      } else next = Math.min(next, retireAt);
    }
    if (Number.isFinite(next) && this.#timer === undefined) this.#arm(next);
  }
}
