import { ManagedIdentityCredential } from "@azure/identity";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RegisteredManagedIdentity } from "./directory.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { verifyAccessToken } from "./test-helpers.js";

// ManagedIdentityCredential over the App Service protocol (IDENTITY_ENDPOINT + IDENTITY_HEADER).
// This file is its own process (vitest pool "forks"): msal-node keeps the managed-identity source
// and token cache in process-wide statics, so IMDS is tested in another file. Each test below uses
// an identity no earlier test used, because a cached token would hide the request.
// The static source also keeps the FIRST credential's network client, retry options included: so
// every credential here is built with `maxRetries: 0` (failures surface at once); the IMDS file
// keeps the default retries and shows them working.

let entra: LocalEntra;
let system: RegisteredManagedIdentity;

const NO_RETRIES = { retryOptions: { maxRetries: 0 } } as const;

beforeAll(async () => {
  entra = await startLocalEntra();
  system = entra.registerManagedIdentity({ displayName: "orders-web", kind: "system" });
  // Before any credential exists: msal-node picks the source once per process.
  for (const [name, value] of Object.entries(entra.env.appService())) vi.stubEnv(name, value);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
});

afterEach(async () => {
  await entra.faults.clear();
  entra.settings.reset();
});

describe("ManagedIdentityCredential (App Service)", () => {
  it("system-assigned: no id given", async () => {
    const token = await new ManagedIdentityCredential(NO_RETRIES).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: system });
    const request = entra.requestLog.find((e) => e.endpoint === "appService");
    expect(request).toMatchObject({
      method: "GET",
      path: "/msi/token",
      clientId: system.clientId,
      status: 200,
    });
  });

  it("a second credential instance reuses msal-node's process-wide cache (no request)", async () => {
    const before = entra.counters.forIdentity(system.clientId);
    await new ManagedIdentityCredential(NO_RETRIES).getToken(SQL_SCOPE);
    expect(entra.counters.forIdentity(system.clientId)).toEqual(before);
  });

  it("user-assigned by client id, resource id and object id", async () => {
    const byClientId = entra.registerManagedIdentity({ displayName: "ua-client-id", kind: "user" });
    const byResourceId = entra.registerManagedIdentity({ displayName: "ua-resource-id", kind: "user" });
    const byObjectId = entra.registerManagedIdentity({ displayName: "ua-object-id", kind: "user" });
    const credentials: Array<[ManagedIdentityCredential, RegisteredManagedIdentity]> = [
      [new ManagedIdentityCredential({ clientId: byClientId.clientId, ...NO_RETRIES }), byClientId],
      [new ManagedIdentityCredential({ resourceId: byResourceId.resourceId, ...NO_RETRIES }), byResourceId],
      [new ManagedIdentityCredential({ objectId: byObjectId.objectId, ...NO_RETRIES }), byObjectId],
    ];
    for (const [credential, identity] of credentials) {
      const token = await credential.getToken(SQL_SCOPE);
      await verifyAccessToken(entra, token.token, { principal: identity });
    }
  });

  it("an unknown client id fails like App Service ('Unable to load the proper Managed Identity.')", async () => {
    const credential = new ManagedIdentityCredential({
      clientId: "0a0a0a0a-0000-4000-8000-000000000000",
      ...NO_RETRIES,
    });
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(
      /Unable to load the proper Managed Identity/,
    );
  });

  it("a disabled identity fails with AADSTS7000112", async () => {
    const identity = entra.registerManagedIdentity({ displayName: "ua-disabled", kind: "user" });
    entra.disable(identity);
    const credential = new ManagedIdentityCredential({
      clientId: identity.clientId,
      retryOptions: { maxRetries: 0 },
    });
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(/AADSTS7000112/);
  });

  it("a 24 h managed-identity lifetime makes msal-node refresh at half-life", async () => {
    entra.settings.managedIdentityTokenLifetimeSeconds = 86_400;
    const identity = entra.registerManagedIdentity({ displayName: "ua-long-lived", kind: "user" });
    const before = Date.now();
    const token = await new ManagedIdentityCredential({
      clientId: identity.clientId,
      ...NO_RETRIES,
    }).getToken(SQL_SCOPE);
    expect(token.expiresOnTimestamp - before).toBeGreaterThan(86_000_000);
    expect((token.refreshAfterTimestamp ?? 0) - before).toBeGreaterThan(43_000_000);
    expect((token.refreshAfterTimestamp ?? 0) - before).toBeLessThan(43_300_000);
  });

  it("HTTP 500 with retries off fails fast; once cleared it works", async () => {
    const identity = entra.registerManagedIdentity({ displayName: "ua-faulted", kind: "user" });
    entra.faults.inject({ kind: "serverError", endpoint: "managedIdentity" });
    const credential = new ManagedIdentityCredential({
      clientId: identity.clientId,
      retryOptions: { maxRetries: 0 },
    });
    const started = performance.now();
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2000);
    await entra.faults.clear();
    await verifyAccessToken(entra, (await credential.getToken(SQL_SCOPE)).token, { principal: identity });
  });

  it("outage fails fast with a network error; 429 surfaces (no retries configured)", async () => {
    const identity = entra.registerManagedIdentity({ displayName: "ua-outage", kind: "user" });
    const credential = new ManagedIdentityCredential({ clientId: identity.clientId, ...NO_RETRIES });
    entra.faults.inject({ kind: "outage", endpoint: "appService" });
    const started = performance.now();
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(/Network unreachable|network_error/);
    expect(performance.now() - started).toBeLessThan(2000);
    await entra.faults.clear();
    entra.faults.inject({ kind: "throttle", retryAfterSeconds: 30, endpoint: "appService", times: 1 });
    await expect(credential.getToken(SQL_SCOPE)).rejects.toThrow(/Too many requests/);
    const log = entra.requestLog.filter((e) => e.clientId === identity.clientId);
    expect(log.map((e) => e.status)).toEqual([429]);
    await verifyAccessToken(entra, (await credential.getToken(SQL_SCOPE)).token, { principal: identity });
  });
});
