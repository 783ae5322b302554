import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type LocalEntra,
  type RegisteredManagedIdentity,
  SQL_SCOPE,
  startLocalEntra,
} from "../../support/entra/index.js";
import { eventLines, expectNothingLeaked, expectTokenOf, recordingChain, stubAzureEnv } from "./helpers.js";

// Managed identity over IMDS (a VM; AZURE_POD_IDENTITY_AUTHORITY_HOST points msal-node at the local
// endpoint and skips the IMDS probe). Own process, see managed-identity-app-service.test.ts.

let entra: LocalEntra;
let system: RegisteredManagedIdentity;

beforeAll(async () => {
  entra = await startLocalEntra();
  system = entra.registerManagedIdentity({ displayName: "orders-vm", kind: "system" });
  stubAzureEnv(entra.env.imds());
  vi.stubEnv("PATH", "/nonexistent-bin"); // no az/azd on this VM
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
});

describe("managed-identity preset (IMDS)", () => {
  it("system-assigned when no id is given", async () => {
    const { chain } = recordingChain("managed-identity");
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("ManagedIdentityCredential");
    expectTokenOf(token.token, system);
    expect(entra.requestLog.find((e) => e.endpoint === "imds")).toMatchObject({
      path: "/metadata/identity/oauth2/token/",
      clientId: system.clientId,
      status: 200,
    });
  });

  it("user-assigned by client id and by resource id", async () => {
    const byClientId = entra.registerManagedIdentity({ displayName: "orders-vm-ua1", kind: "user" });
    const byResourceId = entra.registerManagedIdentity({ displayName: "orders-vm-ua2", kind: "user" });
    const a = recordingChain({ type: "managed-identity", clientId: byClientId.clientId }).chain;
    expectTokenOf((await a.getToken(SQL_SCOPE)).token.token, byClientId);
    const b = recordingChain({ type: "managed-identity", resourceId: byResourceId.resourceId }).chain;
    expectTokenOf((await b.getToken(SQL_SCOPE)).token.token, byResourceId);
  });
});

describe('"default" preset on a VM', () => {
  it("selects the managed identity by environment alone", async () => {
    const user = entra.registerManagedIdentity({ displayName: "orders-vm-default", kind: "user" });
    const { chain, events } = recordingChain({ type: "default", managedIdentityClientId: user.clientId });
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("ManagedIdentityCredential");
    expectTokenOf(token.token, user);
    expect(eventLines(events)).toEqual([
      "failed EnvironmentCredential unavailable",
      "failed WorkloadIdentityCredential unavailable",
      "selected ManagedIdentityCredential",
    ]);
  });
});

describe("no secret leaks", () => {
  it("no token, JWT segment or secret appears in the chains' events or errors", () => {
    expectNothingLeaked();
  });
});
