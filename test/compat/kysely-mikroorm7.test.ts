import { fileURLToPath } from "node:url";
import type { EntraKyselyEvent } from "@entra-sql/kysely";
import { describe, expect, it } from "vitest";
import { SQL_SCOPE } from "../integration/mssql/helpers.js";
import { bySteps, expectValidLogin, type Step, useNode22Compat } from "./node22-harness.js";

// MikroORM 7 (@mikro-orm/mssql 7.2.1: Kysely 0.29.6, tarn 3.1.2, tedious 20.0.0; Node >= 22.17) with
// @entra-sql/kysely's dialect config passed as `driverOptions: new MssqlDialect(entraMssqlDialectConfig(...))`,
// as packages/kysely/README.md documents it. MikroORM runs under a real Node 22 (kysely-mikroorm7-scenario.mjs,
// the node22 harness); installed apart from the workspace by @entra-sql/compat-mikroorm7 (test/compat/mikroorm7).
// Both token modes: MikroORM connects with valid-token logins and one identity request, runs raw DDL, a
// transactional insert, a find and a count; a cached token refused with 18456 is retried once with a fresh
// one under MikroORM's first query.

const SCENARIO = fileURLToPath(new URL("./kysely-mikroorm7-scenario.mjs", import.meta.url));

type ScenarioEvent = EntraKyselyEvent & { step: Step };

interface ScenarioResult {
  node: string;
  mikroOrm: string;
  kysely: string;
  tedious: string;
  steps: {
    queries: { titles: string[]; count: number };
    "rejected-login": { count: number };
  };
  events: ScenarioEvent[];
}

const ofType = <T extends EntraKyselyEvent["type"]>(events: ScenarioEvent[], type: T) =>
  events.filter((e): e is Extract<ScenarioEvent, { type: T }> => e.type === type);

const compat = useNode22Compat("test/compat/kysely-mikroorm7.test.ts");

describe.skipIf(compat.unsupported !== undefined)("MikroORM 7 through @entra-sql/kysely on Node 22", () => {
  describe.each([
    ["inline", "fedauth-inline"],
    ["token-credential", "fedauth-credential"],
  ] as const)("tokenMode %s", (tokenMode, authMode) => {
    it("connects with valid tokens, runs DDL, a transaction, find and count; retries 18456 with a fresh token", async () => {
      const { result, marks } = await compat.runScenario<ScenarioResult>(SCENARIO, tokenMode);
      const { loginsOf, identityRequestsIn, eventsOf } = bySteps(compat.standIns(), marks, result.events);

      expect(result.node).toMatch(/^22\./);
      expect(result).toMatchObject({ mikroOrm: "7.2.1", kysely: "0.29.6", tedious: "20.0.0" });

      expect(result.steps.queries).toEqual({ titles: ["one", "two", "three"], count: 3 });
      const logins = loginsOf("queries");
      expect(logins.length).toBeGreaterThanOrEqual(1);
      for (const login of logins) expectValidLogin(login, authMode, 50 * 60_000);
      expect(ofType(eventsOf("queries"), "connection-opened")).toHaveLength(logins.length);
      expect(identityRequestsIn("queries")).toBe(1);

      expect(result.steps["rejected-login"]).toEqual({ count: 3 });
      const [refused, ...accepted] = loginsOf("rejected-login");
      expect(refused).toMatchObject({ ok: false, failure: "revoked", errorNumber: 18456, authMode });
      expect(accepted.length).toBeGreaterThanOrEqual(1);
      for (const login of accepted) expectValidLogin(login, authMode, 50 * 60_000);
      expect(ofType(eventsOf("rejected-login"), "login-retried")).toEqual([
        { step: "rejected-login", type: "login-retried", verdict: "rejected", scope: SQL_SCOPE },
      ]);
      expect(identityRequestsIn("rejected-login")).toBe(1);
    }, 25_000);
  });
});
