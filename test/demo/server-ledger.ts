import { ACCESS_TOKEN_EXPIRED, type StandInEvent } from "../support/tds/index.js";

// What the SQL stand-in saw, per app: each app logs in as its own service principal, so the server's
// login records and the requests on each session are attributed by the principal's application id.
// This is the server's view, independent of what the adapters report about themselves.

export interface ServerStats {
  logins: number;
  failedLogins: number;
  /** Logins that presented a token already expired (refused with "Token is expired", or past `exp`). */
  expiredTokensPresented: number;
  /** Statements refused with 37396 after the server revalidated the session's token. */
  statementsRefused37396: number;
  /** Statements that ran on a session after its login token had expired. */
  statementsPastToken: number;
  /** The oldest age (since login) at which a session sent a statement that ran. */
  oldestStatementAgeMs: number;
}

/** More of the server's records per app, for the soak's table (test/soak); the demo prints none of it. */
export interface ServerDetails {
  /** Requests the app's sessions sent (batches, RPCs, transaction requests), refused ones included. */
  statementsSent: number;
  /** Requests that ended with an error, by the server's error number (the first one). */
  statementsFailedByError: Record<string, number>;
  /** Refused logins by the stand-in's reason ("expired", "revoked", "refused", "injected", ...). */
  loginsRefusedByReason: Record<string, number>;
  /** Sessions that ended, by why ("client", "killed", ...). */
  sessionsClosedByReason: Record<string, number>;
  /** The app's sessions logged in and not yet closed. */
  openSessions: number;
}

export interface ServerLedger {
  /** The stand-in's `onEvent`. */
  onEvent(event: StandInEvent): void;
  /** Attribute the logins of this application (client) id to `app`. */
  track(app: string, clientId: string): void;
  stats(app: string): ServerStats;
  details(app: string): ServerDetails;
  /** Logins no tracked app made (no principal, or another one). */
  readonly unattributedLogins: number;
}

interface SessionState {
  stats: ServerStats;
  details: ServerDetails;
  loginAtMs: number;
  tokenExpiresAtMs: number | undefined;
}

export function createServerLedger(): ServerLedger {
  const apps = new Map<string, { stats: ServerStats; details: ServerDetails }>(); // client id -> records
  const byName = new Map<string, { stats: ServerStats; details: ServerDetails }>();
  const bump = (counts: Record<string, number>, key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const sessions = new Map<number, SessionState>();
  let unattributed = 0;

  const onEvent = (event: StandInEvent): void => {
    if (event.type === "login") {
      const { record } = event;
      const app = record.principal?.appId === undefined ? undefined : apps.get(record.principal.appId);
      if (!app) {
        unattributed += 1;
        return;
      }
      const { stats, details } = app;
      stats.logins += 1;
      if (!record.ok) {
        stats.failedLogins += 1;
        bump(details.loginsRefusedByReason, record.failure ?? "unknown");
      }
      const expiresAtMs = record.tokenExpiresAt?.getTime();
      if (record.failure === "expired" || (expiresAtMs !== undefined && expiresAtMs <= record.at.getTime())) {
        stats.expiredTokensPresented += 1;
      }
      if (record.ok) {
        details.openSessions += 1;
        sessions.set(record.sessionId, {
          stats,
          details,
          loginAtMs: record.at.getTime(),
          tokenExpiresAtMs: expiresAtMs,
        });
      }
    } else if (event.type === "request") {
      const session = sessions.get(event.sessionId);
      if (session) {
        session.details.statementsSent += 1;
        const [first] = event.errorNumbers;
        if (first !== undefined) bump(session.details.statementsFailedByError, String(first));
      }
      if (!session || event.errorNumbers.includes(ACCESS_TOKEN_EXPIRED.number)) return;
      const sentAtMs = Date.now() - event.durationMs;
      const { stats } = session;
      stats.oldestStatementAgeMs = Math.max(stats.oldestStatementAgeMs, sentAtMs - session.loginAtMs);
      if (session.tokenExpiresAtMs !== undefined && sentAtMs >= session.tokenExpiresAtMs) {
        stats.statementsPastToken += 1;
      }
    } else if (event.type === "request-rejected") {
      const session = sessions.get(event.sessionId);
      if (session && event.errorNumber === ACCESS_TOKEN_EXPIRED.number)
        session.stats.statementsRefused37396 += 1;
    } else if (event.type === "session-closed") {
      const session = sessions.get(event.sessionId);
      if (session) {
        session.details.openSessions -= 1;
        bump(session.details.sessionsClosedByReason, event.reason);
      }
      sessions.delete(event.sessionId);
    }
  };

  const tracked = (app: string) => {
    const records = byName.get(app);
    if (!records) throw new Error(`server ledger: no app "${app}" tracked`);
    return records;
  };

  return {
    onEvent,
    track(app, clientId) {
      const stats: ServerStats = {
        logins: 0,
        failedLogins: 0,
        expiredTokensPresented: 0,
        statementsRefused37396: 0,
        statementsPastToken: 0,
        oldestStatementAgeMs: 0,
      };
      const details: ServerDetails = {
        statementsSent: 0,
        statementsFailedByError: {},
        loginsRefusedByReason: {},
        sessionsClosedByReason: {},
        openSessions: 0,
      };
      apps.set(clientId.toLowerCase(), { stats, details });
      byName.set(app, { stats, details });
    },
    stats(app) {
      return tracked(app).stats;
    },
    details(app) {
      return tracked(app).details;
    },
    get unattributedLogins() {
      return unattributed;
    },
  };
}
