import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  AzureCliCredential,
  AzureDeveloperCliCredential,
  CredentialUnavailableError,
  DefaultAzureCredential,
} from "@azure/identity";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RegisteredApp, RegisteredUser } from "./directory.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { verifyAccessToken } from "./test-helpers.js";

// The fake az and azd, driven by the real AzureCliCredential / AzureDeveloperCliCredential (which
// spawn them through PATH) and by DefaultAzureCredential.

const execFileAsync = promisify(execFile);

let entra: LocalEntra;
let alice: RegisteredUser;
let deployer: RegisteredApp;

beforeAll(async () => {
  entra = await startLocalEntra();
  alice = entra.registerUser({ upn: "alice@contoso.example", displayName: "Alice Admin" });
  deployer = entra.registerApp({ displayName: "deployer", clientSecret: true });
  vi.stubEnv("PATH", entra.cli.pathWithCli());
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
});

afterEach(async () => {
  vi.unstubAllEnvs();
  vi.stubEnv("PATH", entra.cli.pathWithCli());
  entra.cli.logout();
  await entra.faults.clear();
});

/** Runs a fake CLI directly; never rejects. */
async function run(tool: "az" | "azd", args: string[]) {
  try {
    const { stdout, stderr } = await execFileAsync(`${entra.cli.binDir}/${tool}`, args);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("fake az", () => {
  it("prints get-access-token output in the real CLI's shape, and counts it as endpoint 'cli'", async () => {
    entra.cli.loginAs(alice);
    entra.counters.reset();
    const result = await run("az", [
      "account",
      "get-access-token",
      "--output",
      "json",
      "--resource",
      "https://database.windows.net/",
    ]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const output = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(output).toMatchObject({
      expiresOn: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/),
      expires_on: expect.any(Number),
      subscription: entra.subscriptionId,
      tenant: entra.tenantId,
      tokenType: "Bearer",
    });
    const local = new Date(String(output.expiresOn).replace(" ", "T")).getTime();
    expect(Math.abs(local - Number(output.expires_on) * 1000)).toBeLessThan(1000);
    await verifyAccessToken(entra, String(output.accessToken), { principal: alice });
    expect(entra.counters.forEndpoint("cli")).toEqual({ requests: 1, tokensIssued: 1 });
    expect(entra.counters.forIdentity(alice.upn)).toEqual({ requests: 1, tokensIssued: 1 });
    expect(entra.requestLog[0]).toMatchObject({
      endpoint: "cli",
      path: "az account get-access-token",
      upn: alice.upn,
      resource: "https://database.windows.net/",
      status: 200,
    });
  });

  it("logged out: exit 1 and the real CLI's message; unknown commands: exit 2", async () => {
    const result = await run("az", [
      "account",
      "get-access-token",
      "--resource",
      "https://database.windows.net/",
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "ERROR: Please run 'az login' to setup account.\n",
    });
    expect((await run("az", ["vm", "list"])).code).toBe(2);
  });

  it("is fast enough to spawn per getToken (AzureCliCredential does not cache)", async () => {
    entra.cli.loginAs(alice);
    const credential = new AzureCliCredential();
    await credential.getToken(SQL_SCOPE);
    const started = performance.now();
    for (let i = 0; i < 5; i++) await credential.getToken(SQL_SCOPE);
    const perCall = (performance.now() - started) / 5;
    expect(perCall).toBeLessThan(entra.cliRuntime === "curl" ? 150 : 400);
  });
});

describe("AzureCliCredential", () => {
  it("logged in as a user: a user token (upn, idtyp user, Azure CLI appid)", async () => {
    entra.cli.loginAs(alice);
    const token = await new AzureCliCredential().getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: alice });
    expect(Math.abs(token.expiresOnTimestamp - (entra.now() + 3600_000))).toBeLessThan(5000);
  });

  it("logged in as a service principal (az login --service-principal)", async () => {
    entra.cli.loginAs(deployer);
    const token = await new AzureCliCredential().getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: deployer });
    expect(() => entra.cli.loginAs(deployer.clientId, { clientSecret: "wrong" })).toThrow(/client secret/);
  });

  it("logged out: CredentialUnavailableError telling to run az login", async () => {
    const error = await new AzureCliCredential().getToken(SQL_SCOPE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialUnavailableError);
    expect((error as Error).message).toMatch(/Please run 'az login'/);
  });

  it("--tenant: another tenant the user is not in fails; one the login belongs to works", async () => {
    const other = entra.addTenant();
    const bob = entra.registerUser({ upn: "bob@fabrikam.example", tenantId: other });
    entra.cli.loginAs(alice);
    await expect(new AzureCliCredential({ tenantId: other }).getToken(SQL_SCOPE)).rejects.toThrow(
      /AADSTS50034/,
    );
    entra.cli.setTenant(other); // `az account set` to a tenant alice is not in
    await expect(new AzureCliCredential().getToken(SQL_SCOPE)).rejects.toThrow(/AADSTS50034/);
    entra.cli.loginAs(bob);
    const token = await new AzureCliCredential({ tenantId: other }).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: bob, tenantId: other });
  });

  it("a disabled user: the CLI's AADSTS50057 error comes through", async () => {
    const carol = entra.registerUser({ upn: "carol@contoso.example" });
    entra.cli.loginAs(carol);
    entra.disable(carol);
    const error = await new AzureCliCredential().getToken(SQL_SCOPE).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(CredentialUnavailableError);
    expect((error as Error).message).toMatch(/AADSTS50057: The user account is disabled/);
  });

  it("faults: server error, malformed output, outage, latency", async () => {
    entra.cli.loginAs(alice);
    const credential = new AzureCliCredential();
    entra.faults.inject({ kind: "serverError", endpoint: "cli", times: 1 });
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(/temporarily unavailable/);
    entra.faults.inject({ kind: "malformedJson", endpoint: "cli", times: 1 });
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(CredentialUnavailableError);
    const outage = entra.faults.inject({ kind: "outage", endpoint: "cli" });
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(/Connection refused/);
    await outage.clear();
    entra.faults.inject({ kind: "latency", ms: 200, endpoint: "cli", clientId: alice.upn, times: 1 });
    const started = performance.now();
    await credential.getToken(SQL_SCOPE);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
  });
});

describe("AzureDeveloperCliCredential", () => {
  it("logged in: a verifiable token; `azd auth token` output shape", async () => {
    entra.cli.loginAs(alice, { tools: ["azd"] });
    const token = await new AzureDeveloperCliCredential().getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: alice });
    const raw = await run("azd", ["auth", "token", "--output", "json", "--no-prompt", "--scope", SQL_SCOPE]);
    expect(JSON.parse(raw.stdout)).toEqual({
      token: expect.any(String),
      expiresOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(entra.cli.isLoggedIn("az")).toBe(false);
  });

  it("logged out: CredentialUnavailableError telling to run azd auth login", async () => {
    const raw = await run("azd", ["auth", "token", "--output", "json", "--no-prompt", "--scope", SQL_SCOPE]);
    expect(raw).toMatchObject({ code: 1, stderr: "ERROR: not logged in, run `azd auth login` to login\n" });
    const error = await new AzureDeveloperCliCredential().getToken(SQL_SCOPE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialUnavailableError);
    expect((error as Error).message).toMatch(/Please run 'azd auth login'/);
  });
});

describe("DefaultAzureCredential with the CLIs", () => {
  it("AZURE_TOKEN_CREDENTIALS=AzureCliCredential uses az", async () => {
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential");
    entra.cli.loginAs(alice, { tools: ["az"] });
    const token = await new DefaultAzureCredential(entra.credentialOptions()).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: alice });
  });

  it("AZURE_TOKEN_CREDENTIALS=dev skips a logged-out az and lands on azd", async () => {
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "dev");
    entra.cli.loginAs(deployer, { tools: ["azd"] });
    entra.counters.reset();
    const token = await new DefaultAzureCredential(entra.credentialOptions()).getToken(SQL_SCOPE);
    expect(entra.requestLog.map((e) => `${e.path} ${e.status}`)).toEqual([
      "az account get-access-token 401",
      "azd auth token 200",
    ]);
    await verifyAccessToken(entra, token.token, { principal: deployer });
  });

  it("with nothing logged in, the chain fails with every source's reason", async () => {
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "dev");
    const error = await new DefaultAzureCredential(entra.credentialOptions())
      .getToken(SQL_SCOPE)
      .catch((e: unknown) => e as Error);
    expect((error as Error).name).toBe("AggregateAuthenticationError");
    expect((error as Error).message).toMatch(/az login/);
    expect((error as Error).message).toMatch(/azd auth login/);
  });
});

describe("node runtime for the fake CLIs (when curl is missing)", () => {
  it("works the same", async () => {
    const other = await startLocalEntra({ cliRuntime: "node" });
    try {
      expect(other.cliRuntime).toBe("node");
      const dave = other.registerUser({ upn: "dave@contoso.example" });
      other.cli.loginAs(dave);
      vi.stubEnv("PATH", other.cli.pathWithCli());
      const token = await new AzureCliCredential().getToken(SQL_SCOPE);
      await verifyAccessToken(other, token.token, { principal: dave });
      other.cli.logout();
      await expect(new AzureCliCredential().getToken(SQL_SCOPE)).rejects.toThrow(/az login/);
    } finally {
      await other.close();
    }
  });
});
