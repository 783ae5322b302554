import type { SessionInfo } from "../records.js";
import type { SqlStandIn } from "../sql-stand-in.js";

// Checks on open sessions measure only what the current test opened: a baseline of the stand-in's
// sessions taken at the start of the test, compared at its end. A session an earlier test left open, or
// is still closing, neither fails nor masks the check of this one.

export interface SessionBaseline {
  /** The sessions logged in now that were not at the baseline: the test's own. */
  opened(): SessionInfo[];
}

/** Takes the baseline now (call it first thing in the test). */
export function sessionBaseline(standIn: SqlStandIn): SessionBaseline {
  const before = new Set(standIn.sessions.map((session) => session.id));
  return { opened: () => standIn.sessions.filter((session) => !before.has(session.id)) };
}
