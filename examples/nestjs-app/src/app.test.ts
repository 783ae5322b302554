import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// examples/nestjs-app as its users run it: compiled by tsc (decorator metadata; `pnpm run build` does it
// before the suite, this test rebuilds only a missing or stale dist/), started with plain
// `node dist/main.js` on a free loopback port with no AZURE_SQL_SERVER (so it starts the local Entra ID
// and SQL stand-ins itself), called over real HTTP, then stopped with SIGTERM.

const APP = resolve(__dirname, "..");
const TSC = resolve(APP, "../../node_modules/typescript/bin/tsc");
const START_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;
/** Any JWT (an Entra access token is one): base64url of `{"` then more base64url. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}/;
/** A JSON field or log field that would hold a token or a secret. */
const SECRET_KEY = /"?(access_?token|token|client_?secret|password)"?\s*[:=]/i;

/** Where `text` holds something token- or secret-shaped, without echoing it (a failure must not print it). */
function leaks(where: string, text: string): string[] {
  const found: string[] = [];
  const jwt = JWT_LIKE.exec(text);
  if (jwt) found.push(`${where}: a JWT-like string at offset ${jwt.index}`);
  const key = SECRET_KEY.exec(text);
  if (key) found.push(`${where}: a field named "${key[1]}" at offset ${key.index}`);
  return found;
}

interface Note {
  id: number;
  title: string;
  body: string | null;
  done: boolean;
  createdAt: string;
  updatedAt: string;
}

let app: ChildProcess | undefined;
let baseUrl = "";
let output = "";
/** Every HTTP response the test received, headers and body as text, for the token check. */
const responses: { where: string; text: string }[] = [];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

async function buildIfStale(): Promise<void> {
  const main = join(APP, "dist/main.js");
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(APP, "src"))) return;
  await promisify(execFile)(process.execPath, [TSC, "-p", "tsconfig.build.json"], {
    cwd: APP,
    timeout: 60_000,
  });
}

/** Resolves with the app's URL once it logs "listening on http://127.0.0.1:<port>". */
function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening on" line in ${START_TIMEOUT_MS} ms; output:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = () => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolvePromise(match[1]);
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`the app exited (code ${code}, signal ${signal}) before listening; output:\n${output}`),
      );
    });
  });
}

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  responses.push({
    where: `${method} ${path} -> ${response.status}`,
    text: `${[...response.headers].join("\n")}\n${text}`,
  });
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
}

function exited(child: ChildProcess, timeoutMs: number) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>(
    (resolvePromise, reject) => {
      const started = Date.now();
      const timer = setTimeout(
        () => reject(new Error(`still running ${timeoutMs} ms after SIGTERM`)),
        timeoutMs,
      );
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        resolvePromise({ code, signal, afterMs: Date.now() - started });
      });
    },
  );
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolvePromise(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once("error", () => resolvePromise(false));
  });
}

describe("examples/nestjs-app", () => {
  beforeAll(async () => {
    await buildIfStale();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: "0", NO_COLOR: "1" };
    delete env.AZURE_SQL_SERVER;
    delete env.HOST;
    app = spawn(process.execPath, ["dist/main.js"], { cwd: APP, env, stdio: ["ignore", "pipe", "pipe"] });
    app.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    app.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    baseUrl = await waitForListening(app);
  }, START_TIMEOUT_MS + 70_000);

  afterAll(async () => {
    // Only when a test failed before the SIGTERM test: SIGTERM first, so the app stops its stand-ins.
    if (!app || app.exitCode !== null || app.signalCode !== null) return;
    const done = exited(app, EXIT_TIMEOUT_MS);
    app.kill("SIGTERM");
    await done.catch(() => app?.kill("SIGKILL"));
  });

  it("creates, lists, reads, updates and deletes notes over HTTP", async () => {
    const created = await call("POST", "/notes", { title: "buy milk", body: "two litres" });
    expect(created.status).toBe(201);
    const milk = created.json as Note;
    expect(milk).toMatchObject({ title: "buy milk", body: "two litres", done: false });
    expect(milk.id).toBeTypeOf("number");
    const second = await call("POST", "/notes", { title: "call Ada" });
    expect(second.status).toBe(201);
    const ada = second.json as Note;
    expect(ada.body).toBeNull();

    const list = await call("GET", "/notes");
    expect(list.status).toBe(200);
    expect((list.json as Note[]).map((note) => note.title)).toEqual(["buy milk", "call Ada"]);

    const one = await call("GET", `/notes/${milk.id}`);
    expect(one).toEqual({ status: 200, json: milk });

    const patched = await call("PATCH", `/notes/${milk.id}`, { done: true, title: "buy oat milk" });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      id: milk.id,
      title: "buy oat milk",
      body: "two litres",
      done: true,
    });
    expect((await call("GET", `/notes/${milk.id}`)).json).toMatchObject({
      title: "buy oat milk",
      done: true,
    });

    expect((await call("DELETE", `/notes/${ada.id}`)).status).toBe(204);
    expect((await call("GET", `/notes/${ada.id}`)).status).toBe(404);
    expect((await call("DELETE", `/notes/${ada.id}`)).status).toBe(404);
    expect(((await call("GET", "/notes")).json as Note[]).map((note) => note.id)).toEqual([milk.id]);
  });

  it("answers bad requests with 400 naming the problem", async () => {
    const unknownField = await call("POST", "/notes", { titel: "typo" });
    expect(unknownField.status).toBe(400);
    expect(JSON.stringify(unknownField.json)).toContain("titel");
    expect((await call("POST", "/notes", { title: "" })).status).toBe(400);
    expect((await call("PATCH", "/notes/1", { done: "yes" })).status).toBe(400);
    expect((await call("GET", "/notes/abc")).status).toBe(400);
  });

  it("GET /health reports the token source's state and a database ping", async () => {
    const { status, json } = await call("GET", "/health");
    expect(status).toBe(200);
    const health = json as {
      status: string;
      database: { status: string; latencyInMs: number };
      tokenSource: {
        activeSource: string;
        closed: boolean;
        scopes: { scope: string; source: string; expiresOn: string; validForSeconds: number }[];
        lastRefresh: { at: string; reason: string; source: string; durationInMs: number };
        tokensFetched: number;
        connections: { opened: number; retired: number };
      };
    };
    expect(health.status).toBe("ok");
    expect(health.database.status).toBe("up");
    expect(health.database.latencyInMs).toBeTypeOf("number");
    // The stand-ins' demo service principal: a client secret credential.
    expect(health.tokenSource.activeSource).toBe("ClientSecretCredential");
    expect(health.tokenSource.closed).toBe(false);
    const [scope] = health.tokenSource.scopes;
    expect(scope?.scope).toBe("https://database.windows.net/.default");
    expect(scope?.source).toBe("ClientSecretCredential");
    // The stand-ins issue one-hour tokens.
    expect(Date.parse(scope?.expiresOn ?? "")).toBeGreaterThan(Date.now());
    expect(scope?.validForSeconds).toBeGreaterThan(60);
    expect(scope?.validForSeconds).toBeLessThanOrEqual(3600);
    expect(health.tokenSource.lastRefresh.reason).toBe("cold");
    expect(health.tokenSource.lastRefresh.source).toBe("ClientSecretCredential");
    expect(Date.parse(health.tokenSource.lastRefresh.at)).toBeLessThanOrEqual(Date.now());
    expect(health.tokenSource.tokensFetched).toBe(1);
    expect(health.tokenSource.connections.opened).toBeGreaterThanOrEqual(1);
  });

  it("never puts a token in a response or a log line", () => {
    expect(responses.length).toBeGreaterThanOrEqual(15);
    expect(responses.flatMap(({ where, text }) => leaks(where, text))).toEqual([]);
    expect(output).toContain("token fetched (cold) from ClientSecretCredential");
    expect(leaks("the app's log", output)).toEqual([]);
  });

  it("on SIGTERM destroys the DataSource, closes the token source and exits 0 promptly", async () => {
    const child = app as ChildProcess;
    const sqlPort = Number(/connecting to 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    expect(sqlPort).toBeGreaterThan(0);
    expect(await listening(sqlPort)).toBe(true);

    const done = exited(child, EXIT_TIMEOUT_MS);
    child.kill("SIGTERM");
    const { code, signal } = await done;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(output).toContain("shutting down (SIGTERM)");
    expect(output).toContain("DataSource destroyed, token source closed");
    // The stand-ins the app started went with it.
    expect(await listening(sqlPort)).toBe(false);
    expect(leaks("the app's log", output)).toEqual([]);
  });
});
