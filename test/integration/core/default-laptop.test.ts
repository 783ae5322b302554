import type { TokenAcquisitionError } from "@entra-sql/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type LocalEntra,
  type RegisteredApp,
  type RegisteredUser,
  SQL_SCOPE,
  startLocalEntra,
} from "../../support/entra/index.js";
import { eventLines, expectNothingLeaked, expectTokenOf, recordingChain, stubAzureEnv } from "./helpers.js";

// The "default" preset on a developer's laptop: no managed-identity variables (the chain's
// ManagedIdentityCredential probes IMDS and is unavailable), the fake az/azd on PATH. Own process:
// the default chain builds a ManagedIdentityCredential, which fixes msal-node's process-wide
// managed-identity source.

let entra: LocalEntra;
let alice: RegisteredUser;
let app: RegisteredApp;

const DEV_SOURCES_BEFORE_CLI = [
  "failed EnvironmentCredential unavailable",
  "failed WorkloadIdentityCredential unavailable",
  "failed ManagedIdentityCredential unavailable",
  "failed VisualStudioCodeCredential unavailable",
];

beforeAll(async () => {
  entra = await startLocalEntra();
  alice = entra.registerUser({ upn: "alice@contoso.example", displayName: "Alice Admin" });
  app = entra.registerApp({ displayName: "orders-api", clientSecret: true });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
});

beforeEach(() => {
  stubAzureEnv({}, entra.imdsHost);
  vi.stubEnv("PATH", entra.cli.pathWithCli());
  entra.counters.reset();
});

afterEach(() => {
  vi.unstubAllEnvs();
  entra.cli.logout();
});

describe('"default" preset on a laptop', () => {
  it("selects the Azure CLI, then calls only az", async () => {
    entra.cli.loginAs(alice);
    const { chain, events } = recordingChain("default", entra.credentialOptions());
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("AzureCliCredential");
    expectTokenOf(token.token, alice);
    expect(eventLines(events)).toEqual([...DEV_SOURCES_BEFORE_CLI, "selected AzureCliCredential"]);
    events.length = 0;
    const before = entra.counters.snapshot().total.requests;
    expect((await chain.getToken(SQL_SCOPE)).source).toBe("AzureCliCredential");
    expect(events).toEqual([]);
    expect(entra.counters.snapshot().total.requests - before).toBe(1);
    expect(entra.requestLog.at(-1)?.path).toBe("az account get-access-token");
  });

  it("a refused source (AZURE_CLIENT_SECRET wrong) falls through to az, sticks, and is skipped on the next walk", async () => {
    stubAzureEnv(
      {
        AZURE_TENANT_ID: entra.tenantId,
        AZURE_CLIENT_ID: app.clientId,
        AZURE_CLIENT_SECRET: "Wr0ngQ~notTheSecretAtAll0123456789abcdef",
      },
      entra.imdsHost,
    );
    entra.cli.loginAs(alice);
    const { chain, events } = recordingChain("default", entra.credentialOptions());

    // 1. Environment is refused (DefaultAzureCredential would stop here); the walk goes on to az.
    const first = await chain.getToken(SQL_SCOPE);
    expect(first.source).toBe("AzureCliCredential");
    expectTokenOf(first.token.token, alice);
    expect(eventLines(events)).toEqual([
      "failed EnvironmentCredential authentication",
      ...DEV_SOURCES_BEFORE_CLI.slice(1),
      "selected AzureCliCredential",
    ]);
    const refused = events.find((e) => e.type === "source-failed" && e.kind === "authentication");
    expect(JSON.stringify(refused)).toMatch(/AADSTS7000215/);
    expect(JSON.stringify(events)).not.toContain("Wr0ngQ~");
    // Token-endpoint requests only: with AZURE_CLIENT_ID set, the managed-identity source also asks
    // the (identity-less) local IMDS for that client id, which is not a token-endpoint request.
    const tokenRequestsOfApp = () =>
      entra.requestLog.filter((e) => e.clientId === app.clientId && e.endpoint === "token").length;
    const appRequests = tokenRequestsOfApp();
    expect(appRequests).toBe(1);
    expect(entra.requestLog.find((e) => e.clientId === app.clientId)).toMatchObject({
      endpoint: "token",
      status: 401,
      error: "invalid_client",
    });

    // 2. Sticky: only az runs; the refused app is not asked again.
    events.length = 0;
    expect((await chain.getToken(SQL_SCOPE)).source).toBe("AzureCliCredential");
    expect(events).toEqual([]);
    expect(tokenRequestsOfApp()).toBe(appRequests);

    // 3. The winner fails (az logged out): the walk skips the refused environment and lands on azd.
    entra.cli.logout(["az"]);
    const third = await chain.getToken(SQL_SCOPE);
    expect(third.source).toBe("AzureDeveloperCliCredential");
    expectTokenOf(third.token.token, alice);
    expect(tokenRequestsOfApp()).toBe(appRequests);
    expect(eventLines(events)).toEqual([
      "failed AzureCliCredential unavailable",
      "failed WorkloadIdentityCredential unavailable",
      "failed ManagedIdentityCredential unavailable",
      "failed VisualStudioCodeCredential unavailable",
      "failed AzurePowerShellCredential unavailable",
      "selected AzureDeveloperCliCredential",
    ]);
  });

  it("nothing works: every source is listed with the fix to try", async () => {
    vi.stubEnv("PATH", "/nonexistent-bin");
    const { chain } = recordingChain("default", entra.credentialOptions());
    const error = (await chain.getToken(SQL_SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(error.failures.map((f) => [f.source, f.kind])).toEqual([
      ["EnvironmentCredential", "unavailable"],
      ["WorkloadIdentityCredential", "unavailable"],
      ["ManagedIdentityCredential", "unavailable"],
      ["VisualStudioCodeCredential", "unavailable"],
      ["AzureCliCredential", "unavailable"],
      ["AzurePowerShellCredential", "unavailable"],
      ["AzureDeveloperCliCredential", "unavailable"],
    ]);
    const fixes = Object.fromEntries(error.failures.map((f) => [f.source, f.fix]));
    expect(fixes).toMatchObject({
      EnvironmentCredential: expect.stringMatching(
        /Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/,
      ),
      WorkloadIdentityCredential: expect.stringMatching(/AZURE_FEDERATED_TOKEN_FILE/),
      // The test machine's IMDS (the local Entra ID's) has no identity assigned, like a VM without
      // one; a laptop without IMDS at all gets "Not running on Azure..." (unit-tested).
      ManagedIdentityCredential: expect.stringMatching(/^This Azure resource has no managed identity/),
      AzureCliCredential: expect.stringMatching(/^Install the Azure CLI/),
      AzureDeveloperCliCredential: expect.stringMatching(/^Install the Azure Developer CLI/),
    });
    expect(chain.activeSource).toBeUndefined();
  });
});

describe("no secret leaks", () => {
  it("no token, JWT segment or secret appears in the chains' events or errors", () => {
    expectNothingLeaked();
  });
});
