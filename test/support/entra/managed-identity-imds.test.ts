import { ManagedIdentityCredential } from "@azure/identity";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RegisteredManagedIdentity } from "./directory.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { request, verifyAccessToken } from "./test-helpers.js";

// ManagedIdentityCredential over IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST points msal-node at the
// local endpoint, which also skips the IMDS probe). Own process: see managed-identity-app-service.
// The credentials here keep the SDK's default retries (5, from 800 ms; the first credential's
// options apply process-wide), so this file shows transient faults being retried away.

let entra: LocalEntra;
let system: RegisteredManagedIdentity;

beforeAll(async () => {
  entra = await startLocalEntra();
  system = entra.registerManagedIdentity({ displayName: "orders-vm", kind: "system" });
  for (const [name, value] of Object.entries(entra.env.imds())) vi.stubEnv(name, value);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
});

afterEach(async () => {
  await entra.faults.clear();
});

describe("ManagedIdentityCredential (IMDS)", () => {
  it("system-assigned: no id given", async () => {
    const token = await new ManagedIdentityCredential().getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: system });
    expect(entra.requestLog.find((e) => e.endpoint === "imds")).toMatchObject({
      path: "/metadata/identity/oauth2/token/",
      clientId: system.clientId,
      resource: "https://database.windows.net/",
      status: 200,
    });
  });

  it("user-assigned by client id and by resource id (msi_res_id)", async () => {
    const byClientId = entra.registerManagedIdentity({ displayName: "vm-ua-client", kind: "user" });
    const byResourceId = entra.registerManagedIdentity({ displayName: "vm-ua-resource", kind: "user" });
    const a = await new ManagedIdentityCredential(byClientId.clientId).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, a.token, { principal: byClientId });
    const b = await new ManagedIdentityCredential({ resourceId: byResourceId.resourceId }).getToken(
      SQL_SCOPE,
    );
    await verifyAccessToken(entra, b.token, { principal: byResourceId });
  });

  it("an unknown identity fails with IMDS's 'Identity not found'", async () => {
    const credential = new ManagedIdentityCredential({
      clientId: "0b0b0b0b-0000-4000-8000-000000000000",
    });
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(/Identity not found/);
  });

  it("a short outage is bridged by the SDK's retries", async () => {
    const identity = entra.registerManagedIdentity({ displayName: "vm-ua-outage", kind: "user" });
    const outage = entra.faults.inject({ kind: "outage", endpoint: "imds" });
    setTimeout(() => void outage.clear(), 300);
    const started = performance.now();
    const token = await new ManagedIdentityCredential(identity.clientId).getToken(SQL_SCOPE);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    await verifyAccessToken(entra, token.token, { principal: identity });
  });

  it("HTTP 500 once is retried", async () => {
    const identity = entra.registerManagedIdentity({ displayName: "vm-ua-500", kind: "user" });
    entra.faults.inject({ kind: "serverError", endpoint: "imds", clientId: identity.clientId, times: 1 });
    const token = await new ManagedIdentityCredential(identity.clientId).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: identity });
    const statuses = entra.requestLog.filter((e) => e.clientId === identity.clientId).map((e) => e.status);
    expect(statuses).toEqual([500, 200]);
  });

  it("429 with Retry-After is retried by the SDK's IMDS retry policy", async () => {
    const identity = entra.registerManagedIdentity({ displayName: "vm-ua-throttled", kind: "user" });
    entra.faults.inject({
      kind: "throttle",
      retryAfterSeconds: 1,
      endpoint: "imds",
      clientId: identity.clientId,
      times: 1,
    });
    const token = await new ManagedIdentityCredential(identity.clientId).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: identity });
    const statuses = entra.requestLog.filter((e) => e.clientId === identity.clientId).map((e) => e.status);
    expect(statuses).toEqual([429, 200]);
  });

  it("a VM without a system-assigned identity but exactly one user-assigned one uses it (raw IMDS)", async () => {
    const vm = await startLocalEntra();
    try {
      const only = vm.registerManagedIdentity({ displayName: "the-only-one", kind: "user" });
      const response = await request(
        `${vm.imdsHost}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://database.windows.net/`,
        { headers: { Metadata: "true" } },
      );
      expect(response.json().client_id).toBe(only.clientId);
      vm.registerManagedIdentity({ displayName: "a-second-one", kind: "user" });
      const ambiguous = await request(
        `${vm.imdsHost}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://database.windows.net/`,
        { headers: { Metadata: "true" } },
      );
      expect(ambiguous.json()).toEqual({ error: "invalid_request", error_description: "Identity not found" });
    } finally {
      await vm.close();
    }
  });
});
