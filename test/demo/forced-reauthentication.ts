import { ACCESS_TOKEN_EXPIRED, type SqlStandIn, type StandInEvent } from "../support/tds/index.js";
import type { Say } from "./timeline.js";

// The server event the demo injects once per app: the server treats one open session of that app as if
// its login token had expired (SqlStandIn.requireReauthentication), as Azure SQL treats a session whose
// token has expired when it revalidates sessions after maintenance or a failover. The app's next
// statement on it is refused with 37396 and its adapter has to run it again on a fresh connection. The
// apps retire connections before their tokens expire, so without this the demo would never show that
// path.
//
// Which session, and when: a session of the app is marked the moment one of its requests finishes
// outside a transaction (from the stand-in's `request` event, before the client has its reply), so its
// next request is a single statement or a BEGIN, which both adapters run again on a fresh connection.
// Marking a session inside a transaction would fail the transaction on purpose (DESIGN.md: the server
// rolled it back), and the demo promises no failed query.
//
// The next request may also be the driver's own: node-mssql checks a pooled connection with a statement
// when it hands it out (its `validateConnection`), and after a new session's setup batch comes that
// check. When the driver's statement is the one refused, the pool replaces the connection and no app
// statement is run again. So when the marked session is gone and the app has run nothing again, the
// text of the request it was marked after is not used again (it comes before a driver's statement), and
// the next session is marked. This learns the driver's pattern without knowing it; it takes a few tries
// at most. Every wait is for a condition, bounded by a timeout: a slow run only waits longer.

export interface ForcedReauthentication {
  /** The stand-in's `onEvent` (next to the server ledger's). */
  onEvent(event: StandInEvent): void;
  /**
   * Marks sessions of the app until it has run a statement again after 37396. Resolves with what went
   * wrong, or undefined once the server refused a statement of the app and the app ran one again.
   */
  inject(target: InjectionTarget): Promise<string | undefined>;
}

export interface InjectionTarget {
  /** The app's name, for the timeline. */
  app: string;
  /** The application (client) id the app logs in as: its sessions are told apart by it. */
  appId: string;
  /** The server's count of this app's statements refused with 37396 (the ledger). */
  refused(): number;
  /** The app's count of statements it ran again after 37396 (its adapter's `statement-retried`). */
  retried(): number;
  /** How long the whole injection may take: a session to mark, the refusal and the retry. */
  timeoutMs: number;
}

interface Armed {
  app: string;
  /** The session marked and still open, and the request it was marked after; undefined: mark the next. */
  marked: { sessionId: number; after: string; refused: boolean } | undefined;
  /** Requests a mark went unretried after: they come before one of the driver's own statements. */
  notBefore: Set<string>;
  /** The app has run a statement again since the injection began: mark nothing more. */
  recovered(): boolean;
}

const POLL_MS = 20;

export function createForcedReauthentication(sql: SqlStandIn, say: Say): ForcedReauthentication {
  const appOfSession = new Map<number, string>(); // session id -> application id (lower case)
  const armed = new Map<string, Armed>(); // application id (lower case) -> injection in progress

  const onEvent = (event: StandInEvent): void => {
    if (event.type === "login") {
      const appId = event.record.principal?.appId;
      if (event.record.ok && appId !== undefined)
        appOfSession.set(event.record.sessionId, appId.toLowerCase());
    } else if (event.type === "session-closed") {
      const appId = appOfSession.get(event.sessionId);
      appOfSession.delete(event.sessionId);
      const injection = appId === undefined ? undefined : armed.get(appId);
      const marked = injection?.marked;
      if (!injection || marked?.sessionId !== event.sessionId) return;
      injection.marked = undefined;
      if (injection.recovered()) return;
      if (marked.refused) injection.notBefore.add(marked.after);
      say(
        `session ${marked.sessionId} (${injection.app}) ` +
          (marked.refused
            ? "is gone, and the app ran nothing again (the driver's own statement was refused)"
            : "retired unused") +
          "; marking another",
      );
    } else if (event.type === "request") {
      const appId = appOfSession.get(event.sessionId);
      const injection = appId === undefined ? undefined : armed.get(appId);
      if (event.errorNumbers.includes(ACCESS_TOKEN_EXPIRED.number)) {
        if (injection?.marked?.sessionId === event.sessionId) injection.marked.refused = true;
        return;
      }
      if (!injection || injection.marked !== undefined || injection.recovered()) return;
      if (injection.notBefore.has(event.summary)) return;
      const session = sql.sessions.find((s) => s.id === event.sessionId);
      if (!session || session.inTransaction || !sql.requireReauthentication(session.id)) return;
      injection.marked = { sessionId: session.id, after: event.summary, refused: false };
      say(
        `session ${session.id} (${injection.app}) must log in again, as if its token had expired: its next statement gets 37396`,
      );
    }
  };

  const inject = async (target: InjectionTarget): Promise<string | undefined> => {
    const appId = target.appId.toLowerCase();
    const deadline = Date.now() + target.timeoutMs;
    const refusedBefore = target.refused();
    const retriedBefore = target.retried();
    const recovered = () => target.retried() !== retriedBefore;
    armed.set(appId, { app: target.app, marked: undefined, notBefore: new Set(), recovered });
    try {
      while (!recovered()) {
        if (Date.now() > deadline) {
          return target.refused() === refusedBefore
            ? "no statement of the app was refused with 37396"
            : "no statement refused with 37396 was run again";
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return target.refused() === refusedBefore
        ? "the app ran a statement again, but the server refused none"
        : undefined;
    } finally {
      armed.delete(appId);
    }
  };

  return { onEvent, inject };
}
