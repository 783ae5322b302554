import { DefaultAzureCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RegisteredManagedIdentity } from "./directory.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { verifyAccessToken } from "./test-helpers.js";

// DefaultAzureCredential narrowed to its managed-identity source by AZURE_TOKEN_CREDENTIALS, on the
// App Service protocol. Own process (msal-node's managed-identity statics).

let entra: LocalEntra;
let system: RegisteredManagedIdentity;

beforeAll(async () => {
  entra = await startLocalEntra();
  system = entra.registerManagedIdentity({ displayName: "orders-func", kind: "system" });
  for (const [name, value] of Object.entries(entra.env.appService())) vi.stubEnv(name, value);
  vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential");
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
});

describe("DefaultAzureCredential with AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential", () => {
  it("uses the App Service managed identity (system-assigned)", async () => {
    const token = await new DefaultAzureCredential(entra.credentialOptions()).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: system });
    expect(entra.counters.forEndpoint("appService").tokensIssued).toBe(1);
    expect(entra.counters.forEndpoint("token").requests).toBe(0);
  });

  it("uses a user-assigned identity named by AZURE_CLIENT_ID", async () => {
    // By AZURE_CLIENT_ID, not the managedIdentityClientId option: @azure/identity 4.13 (what npm gives
    // Node 20 users) builds this narrowed chain's ManagedIdentityCredential without the caller's
    // options (defaultAzureCredential.js: createDefaultManagedIdentityCredential({ sendProbeRequest })).
    const user = entra.registerManagedIdentity({ displayName: "orders-func-ua", kind: "user" });
    vi.stubEnv("AZURE_CLIENT_ID", user.clientId);
    const credential = new DefaultAzureCredential(entra.credentialOptions());
    await verifyAccessToken(entra, (await credential.getToken(SQL_SCOPE)).token, { principal: user });
  });
});
