import type { SqlStandIn, StandInEvent } from "../support/tds/index.js";

// The lifetime policy's promise, measured where it is made: the kit checks a connection's age and token
// when the pool hands it out (DESIGN.md), and what it was taken for then runs to its end. So from the
// server's records, per app: the oldest age, and the statements past the login token, of the FIRST
// statement a session runs after it was taken (a statement sent while the session was not inside a
// transaction: a single statement, or the BEGIN). The ledger (test/demo/server-ledger.ts) counts every
// statement, those inside a long transaction too; the table shows both.

export interface AcquireAges {
  oldestAgeMs: number;
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
}

export function createAcquireAgeTracker(sql: SqlStandIn): AcquireAgeTracker {
  const sessions = new Map<number, Tracked>();
  const apps = new Map<string, AcquireAges>();
  const of = (clientId: string) => {
    const key = clientId.toLowerCase();
    let ages = apps.get(key);
    if (!ages) {
      ages = { oldestAgeMs: 0, statementsPastToken: 0 };
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
        });
      } else if (event.type === "session-closed") {
        sessions.delete(event.sessionId);
      } else if (event.type === "request") {
        const session = sessions.get(event.sessionId);
        if (!session) return;
        const wasInTransaction = session.inTransaction;
        session.inTransaction = sql.sessions.find((s) => s.id === event.sessionId)?.inTransaction ?? false;
        if (wasInTransaction || event.errorNumbers.length > 0) return;
        const sentAtMs = Date.now() - event.durationMs;
        const ages = of(session.appId);
        ages.oldestAgeMs = Math.max(ages.oldestAgeMs, sentAtMs - session.loginAtMs);
        if (session.tokenExpiresAtMs !== undefined && sentAtMs >= session.tokenExpiresAtMs)
          ages.statementsPastToken += 1;
      }
    },
  };
}
