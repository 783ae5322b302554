import type { TokenAcquisitionError } from "@entra-sql/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type LocalEntra,
  type RegisteredManagedIdentity,
  type RegisteredUser,
  SQL_SCOPE,
  startLocalEntra,
} from "../../support/entra/index.js";
import { eventLines, expectNothingLeaked, expectTokenOf, recordingChain, stubAzureEnv } from "./helpers.js";

// Managed identity on the App Service protocol (IDENTITY_ENDPOINT + IDENTITY_HEADER): the
// "managed-identity" preset, and the "default" preset choosing it in "production" by the
// environment alone, although a logged-in az is on PATH too. Own process: msal-node picks the
// managed-identity source once per process and keeps its token cache process-wide, so every test
// here uses an identity no earlier test used.

let entra: LocalEntra;
let system: RegisteredManagedIdentity;
let alice: RegisteredUser;

beforeAll(async () => {
  entra = await startLocalEntra();
  system = entra.registerManagedIdentity({ displayName: "orders-web", kind: "system" });
  alice = entra.registerUser({ upn: "alice@contoso.example" });
  // Before any ManagedIdentityCredential exists in this process.
  stubAzureEnv(entra.env.appService());
  vi.stubEnv("PATH", entra.cli.pathWithCli());
  entra.cli.loginAs(alice); // a developer's az login left on the machine: must not be picked
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
});

beforeEach(() => {
  entra.counters.reset();
});

describe("managed-identity preset (App Service)", () => {
  it("system-assigned when no id is given", async () => {
    const { chain, events } = recordingChain("managed-identity");
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("ManagedIdentityCredential");
    expectTokenOf(token.token, system);
    expect(entra.counters.forEndpoint("appService")).toEqual({ requests: 1, tokensIssued: 1 });
    expect(eventLines(events)).toEqual(["selected ManagedIdentityCredential"]);
  });

  it("user-assigned by client id and by resource id", async () => {
    const byClientId = entra.registerManagedIdentity({ displayName: "orders-web-ua1", kind: "user" });
    const byResourceId = entra.registerManagedIdentity({ displayName: "orders-web-ua2", kind: "user" });
    const a = recordingChain({ type: "managed-identity", clientId: byClientId.clientId }).chain;
    expectTokenOf((await a.getToken(SQL_SCOPE)).token.token, byClientId);
    const b = recordingChain({ type: "managed-identity", resourceId: byResourceId.resourceId }).chain;
    expectTokenOf((await b.getToken(SQL_SCOPE)).token.token, byResourceId);
  });

  it("an id not assigned to this app: the failure says to assign it or fix AZURE_CLIENT_ID", async () => {
    const { chain } = recordingChain({
      type: "managed-identity",
      clientId: "0a0a0a0a-0000-4000-8000-000000000000",
    });
    const error = (await chain.getToken(SQL_SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(error.failures[0]).toMatchObject({
      source: "ManagedIdentityCredential",
      kind: "unavailable",
      message: expect.stringMatching(/Unable to load the proper Managed Identity/),
      fix: expect.stringMatching(/assign the user-assigned one, or fix AZURE_CLIENT_ID/),
    });
  });
});

describe('"default" preset in production', () => {
  it("selects the managed identity by environment alone (az on PATH is never run)", async () => {
    const user = entra.registerManagedIdentity({ displayName: "orders-web-default", kind: "user" });
    const { chain, events } = recordingChain({ type: "default", managedIdentityClientId: user.clientId });
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("ManagedIdentityCredential");
    expectTokenOf(token.token, user);
    expect(eventLines(events)).toEqual([
      "failed EnvironmentCredential unavailable",
      "failed WorkloadIdentityCredential unavailable",
      "selected ManagedIdentityCredential",
    ]);
    await chain.getToken(SQL_SCOPE);
    expect(entra.counters.forEndpoint("cli").requests).toBe(0);
    expect(entra.counters.forEndpoint("token").requests).toBe(0);
    // The second call went straight to the winner: msal-node's cache answered, no new request.
    expect(entra.counters.forEndpoint("appService")).toEqual({ requests: 1, tokensIssued: 1 });
  });

  it("AZURE_CLIENT_ID names the user-assigned identity when the setting is absent", async () => {
    const user = entra.registerManagedIdentity({ displayName: "orders-web-env", kind: "user" });
    vi.stubEnv("AZURE_CLIENT_ID", user.clientId);
    try {
      const { chain } = recordingChain("default");
      expectTokenOf((await chain.getToken(SQL_SCOPE)).token.token, user);
    } finally {
      vi.stubEnv("AZURE_CLIENT_ID", undefined);
    }
  });
});

describe("no secret leaks", () => {
  it("no token, JWT segment or secret appears in the chains' events or errors", () => {
    expectNothingLeaked();
  });
});
