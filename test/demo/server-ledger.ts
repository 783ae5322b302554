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

export interface ServerLedger {
  /** The stand-in's `onEvent`. */
  onEvent(event: StandInEvent): void;
  /** Attribute the logins of this application (client) id to `app`. */
  track(app: string, clientId: string): void;
  stats(app: string): ServerStats;
  /** Logins no tracked app made (no principal, or another one). */
  readonly unattributedLogins: number;
}

interface SessionState {
  stats: ServerStats;
  loginAtMs: number;
  tokenExpiresAtMs: number | undefined;
}

export function createServerLedger(): ServerLedger {
  const apps = new Map<string, ServerStats>(); // client id -> stats
  const byName = new Map<string, ServerStats>();
  const sessions = new Map<number, SessionState>();
  let unattributed = 0;

  const onEvent = (event: StandInEvent): void => {
    if (event.type === "login") {
      const { record } = event;
      const stats = record.principal?.appId === undefined ? undefined : apps.get(record.principal.appId);
      if (!stats) {
        unattributed += 1;
        return;
      }
      stats.logins += 1;
      if (!record.ok) stats.failedLogins += 1;
      const expiresAtMs = record.tokenExpiresAt?.getTime();
      if (record.failure === "expired" || (expiresAtMs !== undefined && expiresAtMs <= record.at.getTime())) {
        stats.expiredTokensPresented += 1;
      }
      if (record.ok) {
        sessions.set(record.sessionId, {
          stats,
          loginAtMs: record.at.getTime(),
          tokenExpiresAtMs: expiresAtMs,
        });
      }
    } else if (event.type === "request") {
      const session = sessions.get(event.sessionId);
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
      sessions.delete(event.sessionId);
    }
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
      apps.set(clientId.toLowerCase(), stats);
      byName.set(app, stats);
    },
    stats(app) {
      const stats = byName.get(app);
      if (!stats) throw new Error(`server ledger: no app "${app}" tracked`);
      return stats;
    },
    get unattributedLogins() {
      return unattributed;
    },
  };
}
