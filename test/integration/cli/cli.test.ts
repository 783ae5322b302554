import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_USER_UPN, type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoApp } from "../mssql/helpers.js";
import { FAILURE_CLASSES } from "./failure-classes.js";
import {
  closedPort,
  doctorArgs,
  JWT_SHAPE,
  type Run,
  runBin,
  servicePrincipalEnv,
  standInEnv,
} from "./helpers.js";

// The `entra-sql` bin end to end: the built bin as a child process against the local Entra ID and the
// SQL stand-in. Each doctor failure class ends with its own exit code and says what fixes it; `token`
// shows claims; no run prints a token or a secret (but `token --raw`, on stdout alone).

let standIns: StandIns;
/** Every run of this file, for the leak check at the end. */
const runs: Run[] = [];
const run = async (args: string[], env: NodeJS.ProcessEnv) => {
  const result = await runBin(args, env);
  runs.push(result);
  return result;
};

beforeAll(async () => {
  standIns = await startStandIns();
}, 60_000);

afterAll(async () => {
  await standIns?.close();
});

describe("entra-sql doctor", () => {
  it("all steps pass with the Azure CLI's user (--json: one object with steps, identity and exit code)", async () => {
    const result = await run(doctorArgs(standIns, "--credential", "cli", "--json"), standInEnv(standIns));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ command: "doctor", ok: true, exitCode: 0, exitReason: "ok" });
    expect(report.steps.map((s: { id: string; verdict: string }) => `${s.id}:${s.verdict}`)).toEqual([
      "credential:ok",
      "identity:ok",
      "dns:ok",
      "tcp:ok",
      "tls:ok",
      "login:ok",
      "lifetime:ok",
    ]);
    for (const step of report.steps) expect(step.durationInMs).toBeGreaterThanOrEqual(0);
    expect(report.identity).toMatchObject({
      kind: "user",
      userPrincipalName: DEMO_USER_UPN,
      tenantId: standIns.entra.tenantId,
      objectId: standIns.demo?.user.objectId,
    });
    const byId = Object.fromEntries(report.steps.map((s: { id: string }) => [s.id, s]));
    expect(byId.credential.data).toMatchObject({ winner: "AzureCliCredential" });
    expect(byId.tls.data).toMatchObject({
      protocol: "TLSv1.2",
      subject: "CN=localhost",
      trusted: true,
      strictAvailable: true,
    });
    expect(byId.login.data).toMatchObject({
      loginName: DEMO_USER_UPN,
      userName: DEMO_USER_UPN,
      databaseName: standIns.sql.database,
      roles: [],
    });
    expect(Date.parse(byId.lifetime.data.retireAt)).toBeGreaterThan(Date.now());
  });

  it("token-credential mode with a service principal from the environment, one line per step", async () => {
    const app = demoApp(standIns);
    const result = await run(
      doctorArgs(standIns, "--credential", "service-principal", "--token-mode", "token-credential"),
      servicePrincipalEnv(standIns, app.clientId, app.clientSecret ?? ""),
    );
    expect(result.code).toBe(0);
    const heads = result.stdout.split("\n").filter((line) => /^(ok|WARN|FAIL|skip) /.test(line));
    expect(heads.map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "ok credential",
      "ok who",
      "ok dns",
      "ok tcp",
      "ok tls",
      "ok login",
      "ok lifetime",
    ]);
    expect(result.stdout).toContain("ClientSecretCredential gave a token");
    expect(result.stdout).toContain("(token-credential)");
    expect(result.stdout).toMatch(/result: exit 0 \(ok\)/);
  });

  it("a chain that succeeds after an unavailable source names the winner and the fix for the other", async () => {
    const result = await run(doctorArgs(standIns, "--credential", "environment,cli"), standInEnv(standIns));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok {3}credential .* AzureCliCredential gave a token/);
    expect(result.stdout).toContain("EnvironmentCredential: unavailable");
    expect(result.stdout).toContain("fix: Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET");
    expect(result.stdout).toContain("AzureCliCredential: used");
  });

  it("no credential (exit 10): every source unavailable, with core's fix", async () => {
    const { args, env } = await FAILURE_CLASSES["no credential"].setup(standIns);
    const result = await run(args, env);
    expect(result.code).toBe(10);
    expect(result.stdout).toMatch(/FAIL credential .* no credential source is set up here/);
    expect(result.stdout).toContain("EnvironmentCredential: unavailable");
    expect(result.stdout).toContain("fix: Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET");
    // The network is still checked; the login is not.
    expect(result.stdout).toMatch(/ok {3}tls /);
    expect(result.stdout).toMatch(/skip login .* no token/);
    expect(result.stdout).toMatch(/result: exit 10 \(noCredential\)/);
  });

  it("credential refused (exit 11): a wrong client secret", async () => {
    const { args, env } = await FAILURE_CLASSES["wrong secret"].setup(standIns);
    const result = await run(args, env);
    expect(result.code).toBe(11);
    expect(result.stdout).toContain("ClientSecretCredential: refused");
    expect(result.stdout).toMatch(/AADSTS7000215/);
    expect(result.stdout).toContain("The client secret is wrong or expired");
  });

  it("not a database user (exit 30): the exact CREATE USER and ALTER ROLE statements for this identity", async () => {
    const stranger = standIns.entra.registerApp({ displayName: "doctor-stranger", clientSecret: true });
    const result = await run(
      doctorArgs(standIns, "--credential", "service-principal", "--roles", "db_datareader"),
      servicePrincipalEnv(standIns, stranger.clientId, stranger.clientSecret ?? ""),
    );
    expect(result.code).toBe(30);
    expect(result.stdout).toContain("server: 18456: Login failed for user '<token-identified principal>'.");
    // App-only tokens carry no display name: the user is created by object id under an alias.
    const user = `[app-${stranger.clientId}]`;
    expect(result.stdout).toContain(
      `CREATE USER ${user} FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${stranger.objectId}';`,
    );
    expect(result.stdout).toContain(`ALTER ROLE [db_datareader] ADD MEMBER ${user};`);
    expect(result.stdout).not.toContain("db_datawriter] ADD MEMBER");
  });

  it("wrong database (exit 31): names the database", async () => {
    const { args, env } = await FAILURE_CLASSES["wrong database"].setup(standIns);
    const result = await run(args, env);
    expect(result.code).toBe(31);
    expect(result.stdout).toContain('database "no_such_db" cannot be opened (4060)');
    expect(result.stdout).toContain('Check --database "no_such_db"');
  });

  it("server down (exit 21): nothing listens on the port", async () => {
    const port = await closedPort();
    const args = doctorArgs(standIns, "--credential", "cli", "--timeout", "3").map((arg) =>
      arg === String(standIns.sql.port) ? String(port) : arg,
    );
    const result = await run(args, standInEnv(standIns));
    expect(result.code).toBe(21);
    expect(result.stdout).toContain(`nothing accepts connections on port ${port}`);
    expect(result.stdout).toContain("ECONNREFUSED");
    expect(result.stdout).toMatch(/skip tls /);
  });

  it("untrusted certificate (exit 22): no NODE_EXTRA_CA_CERTS; names the issuer and the fix", async () => {
    const { args, env } = await FAILURE_CLASSES["untrusted certificate"].setup(standIns);
    const result = await run(args, env);
    expect(result.code).toBe(22);
    expect(result.stdout).toMatch(
      /FAIL tls .* the certificate is not trusted by this machine \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
    );
    expect(result.stdout).toContain("issued by CN=entra-sql local stand-ins CA");
    expect(result.stdout).toContain("NODE_EXTRA_CA_CERTS");
    expect(result.stdout).toMatch(/skip login /);
  });

  it("usage errors (exit 2) name the option, the value and the fix", async () => {
    const result = await run(doctorArgs(standIns, "--token-mode", "sometimes"), standInEnv(standIns));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      'option --token-mode is "sometimes"; expected inline or token-credential',
    );
  });

  it("firewall (exit 32): the client IP from the server's 40615 text", async () => {
    standIns.sql.setFirewall({ allowedAddresses: ["203.0.113.7"] });
    try {
      const result = await run(doctorArgs(standIns, "--credential", "cli", "--json"), standInEnv(standIns));
      expect(result.code).toBe(32);
      const login = JSON.parse(result.stdout).steps.find((s: { id: string }) => s.id === "login");
      expect(login).toMatchObject({
        verdict: "fail",
        exitReason: "firewall",
        data: { clientAddress: "127.0.0.1" },
      });
      expect(login.fix).toContain("--start-ip-address 127.0.0.1");
      expect(login.details.join("\n")).toContain(
        "Client with IP address '127.0.0.1' is not allowed to access the server.",
      );
    } finally {
      standIns.sql.setFirewall(undefined);
    }
  });

  it("token: the claims and who they name, never the token", async () => {
    const result = await run(["token", "--credential", "cli", "--json"], standInEnv(standIns));
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.claims).toMatchObject({
      upn: DEMO_USER_UPN,
      aud: expect.stringContaining("database.windows.net"),
    });
    expect(report.identity).toMatchObject({ kind: "user", userPrincipalName: DEMO_USER_UPN });
    const lines = await run(["token", "--credential", "environment"], standInEnv(standIns));
    expect(lines.code).toBe(10);
    expect(lines.stdout).toContain("EnvironmentCredential: unavailable");
  });

  it("token --raw: the token alone on stdout, a warning on stderr", async () => {
    // Not in `runs`: this one must print the token.
    const result = await runBin(["token", "--credential", "cli", "--raw"], standInEnv(standIns));
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(new RegExp(`^${JWT_SHAPE.source}$`));
    expect(result.stderr).toContain("WARNING: the next line on stdout is a bearer token");
    expect(result.stderr).not.toMatch(JWT_SHAPE);
  });

  it("create-user: the statement for a display name", async () => {
    const result = await run(
      ["create-user", "--name", "orders-api", "--roles", "db_datareader"],
      standInEnv(standIns),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "CREATE USER [orders-api] FROM EXTERNAL PROVIDER;\nALTER USER [orders-api] WITH DEFAULT_SCHEMA=[dbo];\nALTER ROLE [db_datareader] ADD MEMBER [orders-api];",
    );
  });

  it("no run printed a token or a secret", () => {
    expect(runs.length).toBeGreaterThanOrEqual(10);
    // Tokens for these identities share their header and the start of their payload (same key, same
    // claim order): neither may appear, nor anything JWT-shaped, nor a client secret.
    const user = standIns.entra.mintAccessToken({ principal: standIns.demo?.user ?? { objectId: "" } }).token;
    const app = standIns.entra.mintAccessToken({ principal: demoApp(standIns) }).token;
    const secrets = [demoApp(standIns).clientSecret ?? "", "not-the-secret-0123456789"];
    for (const { stdout, stderr } of runs) {
      const printed = stdout + stderr;
      expect(printed).not.toMatch(JWT_SHAPE);
      for (const token of [user, app]) {
        const [header = "", payload = ""] = token.split(".");
        expect(printed).not.toContain(header);
        expect(printed).not.toContain(payload.slice(0, 40));
      }
      for (const secret of secrets) expect(printed).not.toContain(secret);
    }
  });
});
