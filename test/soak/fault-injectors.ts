import type { Say } from "../demo/timeline.js";
import type { FaultHandle } from "../support/entra/index.js";
import type { StandIns } from "../support/stand-ins.js";
import type { FaultKind, ScheduledFault } from "./fault-schedule.js";

// Plays the schedule (fault-schedule.ts) against the stand-ins: each fault is switched on at its time
// and off after its duration, through the stand-ins' own controls (local Entra's `faults`, the SQL
// stand-in's revalidate / requireReauthentication / killSession / revokePrincipal / refuseLogins /
// injectLoginErrors / latencyMs). What was actually done, and when, is kept as windows for the
// classification of failed statements (classification.ts).

/** One fault as it was applied: wall-clock times, epoch ms. `endMs` = `startMs` for one-off events. */
export interface FaultWindow {
  kind: FaultKind;
  app: string | undefined;
  startMs: number;
  endMs: number;
  /** What it did ("3 sessions", "503 x2"), for the timeline. */
  detail: string;
}

export interface InjectedApp {
  name: string;
  /** The service principal's object id (the `oid` the SQL stand-in revokes). */
  objectId: string;
  /** The application (client) id its sessions log in as. */
  clientId: string;
}

export interface FaultPlayer {
  /** Windows so far, open ones with `endMs` = Infinity. */
  readonly windows: readonly FaultWindow[];
  /** Ends every open fault and cancels the rest of the schedule; resolves once the IdP listens again. */
  stop(): Promise<void>;
}

export function playSchedule(
  schedule: readonly ScheduledFault[],
  standIns: StandIns,
  apps: readonly InjectedApp[],
  say: Say,
): FaultPlayer {
  const { entra, sql } = standIns;
  const windows: FaultWindow[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const undo = new Set<() => Promise<void> | void>();
  const baseSqlLatencyMs = sql.latencyMs;
  const slowSql = new Set<number>(); // latencies of the slow-SQL windows open now
  let refusing = 0; // open windows refusing logins (they may overlap)
  const appNamed = (name: string | undefined) => apps.find((app) => app.name === name);
  const sessionsOf = (app: InjectedApp | undefined) =>
    sql.sessions.filter((s) => s.principal.appId?.toLowerCase() === app?.clientId.toLowerCase());
  // A session event needs sessions: the app scheduled when it has some (a pool may be empty for a
  // moment), otherwise the next app that has.
  const withSessions = (name: string | undefined) => {
    const from = Math.max(
      0,
      apps.findIndex((app) => app.name === name),
    );
    const order = [...apps.slice(from), ...apps.slice(0, from)];
    return order.find((app) => sessionsOf(app).length > 0) ?? appNamed(name);
  };

  /** Switches the fault on; returns what switches it off (nothing for a one-off event) and a detail. */
  const start = (
    fault: ScheduledFault,
  ): { off?: () => Promise<void> | void; met?: () => boolean; detail: string; app?: string } => {
    const app = fault.kind === "principal-revoked" ? appNamed(fault.app) : withSessions(fault.app);
    const idpFault = (handle: FaultHandle) => () => handle.clear();
    /** A counted fault has been met once it answered a request. */
    const counted = (handle: FaultHandle) => ({
      off: idpFault(handle),
      met: () => handle.remaining !== (handle.kind === "serverError" ? fault.amount : 1),
    });
    switch (fault.kind) {
      case "idp-5xx":
        return {
          ...counted(
            entra.faults.inject({ kind: "serverError", status: 503, endpoint: "token", times: fault.amount }),
          ),
          detail: `the next ${fault.amount} token requests get 503`,
        };
      case "idp-429":
        return {
          ...counted(
            entra.faults.inject({
              kind: "throttle",
              retryAfterSeconds: fault.amount,
              endpoint: "token",
              times: 1,
            }),
          ),
          detail: `the next token request gets 429, Retry-After ${fault.amount} s`,
        };
      case "idp-latency":
        return {
          off: idpFault(entra.faults.inject({ kind: "latency", ms: fault.amount, endpoint: "token" })),
          detail: `token responses ${fault.amount} ms slower`,
        };
      case "idp-outage-short":
      case "idp-outage-long":
        return {
          off: idpFault(entra.faults.inject({ kind: "outage" })),
          detail: "the IdP refuses connections",
        };
      case "revalidation-37396": {
        // The server revalidates every open session (as after a failover); those of one app are found
        // past their token, so each one's next statement is refused with 37396.
        const revalidated = sql.revalidate();
        const marked = sessionsOf(app).filter((s) => sql.requireReauthentication(s.id)).length;
        return {
          detail: `${revalidated} sessions revalidated, ${marked} of ${app?.name} must log in again`,
          app: app?.name,
        };
      }
      case "killed-sessions": {
        const victims = sessionsOf(app).slice(0, fault.amount);
        for (const session of victims) sql.killSession(session.id);
        return { detail: `killed ${victims.length} session(s) of ${app?.name}`, app: app?.name };
      }
      case "principal-revoked": {
        if (!app) return { detail: "no such app" };
        sql.revokePrincipal(app.objectId);
        const revalidated = sql.revalidate();
        return {
          off: () => sql.restorePrincipal(app.objectId),
          detail: `${fault.app}'s principal revoked (${revalidated} sessions revalidated)`,
        };
      }
      case "logins-refused-18456":
        refusing += 1;
        sql.refuseLogins(true);
        return {
          off: () => {
            refusing -= 1;
            if (refusing === 0) sql.refuseLogins(false);
          },
          detail: "every login refused with 18456",
        };
      case "login-errors-40613":
        sql.injectLoginErrors({ number: 40613, count: fault.amount });
        return { detail: `the next ${fault.amount} logins fail with 40613` };
      case "slow-sql": {
        const ms = fault.amount;
        slowSql.add(ms);
        sql.latencyMs = Math.max(baseSqlLatencyMs, ...slowSql);
        return {
          off: () => {
            slowSql.delete(ms);
            sql.latencyMs = Math.max(baseSqlLatencyMs, ...slowSql);
          },
          detail: `every SQL response ${ms} ms slower`,
        };
      }
    }
  };

  const play = (fault: ScheduledFault, startAtMs: number, postponed = 0) => {
    const at = setTimeout(
      () => {
        timers.delete(at);
        // A session event with no session open anywhere (every pool emptied by a refusal window) waits.
        const needsSessions = fault.kind === "revalidation-37396" || fault.kind === "killed-sessions";
        if (needsSessions && sql.sessions.length === 0 && postponed < MAX_POSTPONEMENTS) {
          play({ ...fault, atMs: fault.atMs + POSTPONE_MS }, startAtMs, postponed + 1);
          return;
        }
        const started = start(fault);
        const window: FaultWindow = {
          kind: fault.kind,
          app: started.app ?? fault.app,
          startMs: Date.now(),
          endMs: started.off ? Number.POSITIVE_INFINITY : Date.now(),
          detail: started.detail,
        };
        windows.push(window);
        const tag = window.app === undefined ? "" : ` [${window.app}]`;
        say(
          `fault ${fault.kind}${tag}: ${started.detail}${started.off ? ` for ${seconds(fault.durationMs)}` : ""}`,
        );
        const { off, met } = started;
        if (!off) return;
        const end = async () => {
          undo.delete(end);
          await off();
          window.endMs = Date.now();
          say(`fault ${fault.kind}${tag} over`);
        };
        undo.add(end);
        // A counted IdP fault no token request met in its window (the apps' refreshes can all fall
        // outside a few seconds on a busy machine) stays armed a little longer, but not into an outage.
        const endOnceMet = (graceLeftMs: number) => {
          const outage = windows.some(
            (w) => w.kind.startsWith("idp-outage") && w.endMs === Number.POSITIVE_INFINITY,
          );
          if (met === undefined || met() || outage || graceLeftMs <= 0) return void end();
          const next = setTimeout(() => {
            timers.delete(next);
            endOnceMet(graceLeftMs - MET_POLL_MS);
          }, MET_POLL_MS);
          timers.add(next);
        };
        const until = setTimeout(() => {
          timers.delete(until);
          endOnceMet(MET_GRACE_MS);
        }, fault.durationMs);
        timers.add(until);
      },
      Math.max(0, startAtMs + fault.atMs - Date.now()),
    );
    timers.add(at);
  };

  const startAtMs = Date.now();
  for (const fault of schedule) void play(fault, startAtMs);
  return {
    windows,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all([...undo].map((end) => end()));
      await entra.faults.clear();
      sql.refuseLogins(false);
      sql.injectLoginErrors({ number: 40613, count: 0 });
      sql.latencyMs = baseSqlLatencyMs;
      for (const app of apps) sql.restorePrincipal(app.objectId);
    },
  };
}

/** How much longer a counted IdP fault stays armed when no request met it in its window, and how often it looks. */
const MET_GRACE_MS = 5_000;
const MET_POLL_MS = 100;
const POSTPONE_MS = 250;
const MAX_POSTPONEMENTS = 40;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
