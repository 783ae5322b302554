import type { SqlStandIn, StandInEvent } from "../support/tds/index.js";

// The lifetime policy's promise, measured where it is made: the kit checks a connection's age and token
// when the pool hands it out (DESIGN.md), and what it was taken for then runs to its end. So from the
// server's records, per app: the oldest age, and the statements past the login token, of the FIRST
// statement a session runs after it was taken (a statement sent while the session was not inside a
// transaction: a single statement, or the BEGIN). The ledger (test/demo/server-ledger.ts) counts every
// statement, those inside a long transaction too; the table shows both.

export interface AcquireAges {
  oldestAgeMs: number;
  /**
   * Of the session behind `oldestAgeMs`: from its login record to the end of its first request (tedious'
   * initial SET batch, after which the driver reports the connection open): what the server counts of a
   * connection's age and a client that dates it from its connect event does not.
   */
  oldestLoginMs: number;
  /** That statement, and the session's request before it (what the connection did before it was taken). */
  oldestStatement: string;
  statementsPastToken: number;
}

export interface AcquireAgeTracker {
  /** The SQL stand-in's `onEvent`. */
  onEvent(event: StandInEvent): void;
  /** Per application (client) id. */
  of(clientId: string): AcquireAges;
}

interface Tracked {
  appId: string;
  loginAtMs: number;
  tokenExpiresAtMs: number | undefined;
  inTransaction: boolean;
  readyAtMs: number | undefined;
  previous: { summary: string; endedAtMs: number } | undefined;
}

export function createAcquireAgeTracker(sql: SqlStandIn): AcquireAgeTracker {
  const sessions = new Map<number, Tracked>();
  const apps = new Map<string, AcquireAges>();
  const of = (clientId: string) => {
    const key = clientId.toLowerCase();
    let ages = apps.get(key);
    if (!ages) {
      ages = { oldestAgeMs: 0, oldestLoginMs: 0, oldestStatement: "", statementsPastToken: 0 };
      apps.set(key, ages);
    }
    return ages;
  };
  return {
    of,
    onEvent(event) {
      if (event.type === "login" && event.record.ok && event.record.principal?.appId !== undefined) {
        sessions.set(event.record.sessionId, {
          appId: event.record.principal.appId,
          loginAtMs: event.record.at.getTime(),
          tokenExpiresAtMs: event.record.tokenExpiresAt?.getTime(),
          inTransaction: false,
          readyAtMs: undefined,
          previous: undefined,
        });
      } else if (event.type === "session-closed") {
        sessions.delete(event.sessionId);
      } else if (event.type === "request") {
        const session = sessions.get(event.sessionId);
        if (!session) return;
        const now = Date.now();
        session.readyAtMs ??= now;
        const previous = session.previous;
        session.previous = { summary: event.summary, endedAtMs: now };
        const wasInTransaction = session.inTransaction;
        session.inTransaction = sql.sessions.find((s) => s.id === event.sessionId)?.inTransaction ?? false;
        if (wasInTransaction || event.errorNumbers.length > 0) return;
        const sentAtMs = now - event.durationMs;
        const ages = of(session.appId);
        if (sentAtMs - session.loginAtMs > ages.oldestAgeMs) {
          ages.oldestAgeMs = sentAtMs - session.loginAtMs;
          ages.oldestLoginMs = session.readyAtMs - session.loginAtMs;
          ages.oldestStatement =
            `${event.kind} "${event.summary.slice(0, 60)}"` +
            (previous === undefined
              ? ""
              : `, ${((sentAtMs - previous.endedAtMs) / 1000).toFixed(1)} s after "${previous.summary.slice(0, 60)}"`);
        }
        if (session.tokenExpiresAtMs !== undefined && sentAtMs >= session.tokenExpiresAtMs)
          ages.statementsPastToken += 1;
      }
    },
  };
}
