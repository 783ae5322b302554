import { AuthenticationRequiredError, ClientSecretCredential } from "@azure/identity";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RegisteredApp } from "./directory.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { verifyAccessToken } from "./test-helpers.js";

// A real ClientSecretCredential (msal-node underneath) against the local IdP: success, Entra's
// errors as the SDK surfaces them, and every fault kind as a client experiences it.

let entra: LocalEntra;
let app: RegisteredApp;

beforeAll(async () => {
  entra = await startLocalEntra();
  app = entra.registerApp({ displayName: "orders-api", clientSecret: true });
});

afterAll(async () => {
  await entra?.close();
});

afterEach(async () => {
  await entra.faults.clear();
  entra.settings.reset();
});

/** A fresh credential each time: msal caches tokens per credential instance. */
function credential(
  options: { clientId?: string; secret?: string; maxRetries?: number } = {},
): ClientSecretCredential {
  return new ClientSecretCredential(
    entra.tenantId,
    options.clientId ?? app.clientId,
    options.secret ?? app.clientSecret ?? "",
    {
      ...entra.credentialOptions(),
      ...(options.maxRetries !== undefined ? { retryOptions: { maxRetries: options.maxRetries } } : {}),
    },
  );
}

describe("ClientSecretCredential", () => {
  it("gets a verifiable Azure SQL token, cached per credential instance", async () => {
    entra.counters.reset();
    const cred = credential();
    const token = await cred.getToken(SQL_SCOPE);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3500_000);
    await cred.getToken(SQL_SCOPE);
    expect(entra.counters.forEndpoint("token")).toEqual({ requests: 1, tokensIssued: 1 });
    expect(entra.counters.forEndpoint("discovery").requests).toBe(1);
    expect(entra.requestLog.map((e) => e.endpoint)).toEqual(["discovery", "token"]);
    await verifyAccessToken(entra, token.token, { principal: app });
  });

  it("a wrong secret fails with invalid_client / AADSTS7000215", async () => {
    const error = await credential({ secret: "not-the-secret" })
      .getToken(SQL_SCOPE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationRequiredError);
    expect(String((error as Error).message)).toMatch(/invalid_client/);
    expect(String((error as Error).message)).toMatch(/AADSTS7000215: Invalid client secret provided/);
  });

  it("an unknown client id fails with AADSTS700016", async () => {
    const error = await credential({ clientId: "8b2b1c7e-1111-4222-8333-944444444444" })
      .getToken(SQL_SCOPE)
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/AADSTS700016: Application with identifier '8b2b1c7e/);
  });

  it("a disabled app fails with AADSTS7000112", async () => {
    const disabled = entra.registerApp({ displayName: "disabled-app", clientSecret: true });
    entra.disable(disabled);
    const error = await credential({ clientId: disabled.clientId, secret: disabled.clientSecret })
      .getToken(SQL_SCOPE)
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/AADSTS7000112: Application '.*'\(disabled-app\) is disabled/);
  });

  it("refresh_in and a short lifetime reach the client", async () => {
    entra.settings.tokenLifetimeSeconds = 600;
    entra.settings.refreshInSeconds = 120;
    const before = Date.now();
    const token = await credential().getToken(SQL_SCOPE);
    expect(token.expiresOnTimestamp - before).toBeLessThanOrEqual(601_000);
    expect(token.expiresOnTimestamp - before).toBeGreaterThan(590_000);
    expect(token.refreshAfterTimestamp).toBeDefined();
    expect((token.refreshAfterTimestamp ?? 0) - before).toBeLessThanOrEqual(121_000);
  });
});

describe("faults as ClientSecretCredential sees them", () => {
  it("HTTP 500 once: the SDK's retry policy retries and succeeds (the log shows both)", async () => {
    entra.counters.reset();
    entra.faults.inject({ kind: "serverError", endpoint: "token", times: 1 });
    const token = await credential().getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: app });
    expect(entra.requestLog.filter((e) => e.endpoint === "token").map((e) => e.status)).toEqual([500, 200]);
    expect(entra.requestLog.find((e) => e.status === 500)?.fault).toBe("serverError");
  });

  it("HTTP 500 with retries off fails at once", async () => {
    entra.faults.inject({ kind: "serverError", endpoint: "token" });
    const started = performance.now();
    await expect(credential({ maxRetries: 0 }).getToken(SQL_SCOPE)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("429 with Retry-After: the client waits that long, retries, and succeeds", async () => {
    entra.counters.reset();
    entra.faults.inject({ kind: "throttle", retryAfterSeconds: 1, endpoint: "token", times: 1 });
    const started = performance.now();
    await credential().getToken(SQL_SCOPE);
    const elapsed = performance.now() - started;
    const tokenRequests = entra.requestLog.filter((e) => e.endpoint === "token");
    expect(tokenRequests.map((e) => e.status)).toEqual([429, 200]);
    expect(tokenRequests[0]?.fault).toBe("throttle");
    expect((tokenRequests[1]?.time ?? 0) - (tokenRequests[0]?.time ?? 0)).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeGreaterThanOrEqual(950);
  });

  it("outage: with retries off the credential fails fast, before or after discovery", async () => {
    const warm = credential({ maxRetries: 0 });
    await warm.getToken("https://management.azure.com/.default");
    entra.faults.inject({ kind: "outage", endpoint: "token" });
    const started = performance.now();
    // A new credential cannot even read the discovery document...
    await expect(credential({ maxRetries: 0 }).getToken(SQL_SCOPE)).rejects.toThrow(
      /endpoints_resolution_error/,
    );
    // ...and one that already has it cannot connect to the token endpoint.
    const error = await warm.getToken(SQL_SCOPE).catch((e: unknown) => e as Error);
    expect(String((error as Error).message)).toMatch(/network_error/);
    expect(performance.now() - started).toBeLessThan(2000);
    await entra.faults.clear();
    await verifyAccessToken(entra, (await warm.getToken(SQL_SCOPE)).token, { principal: app });
  });

  it("latency is added to the token request", async () => {
    const cred = credential();
    await cred.getToken("https://management.azure.com/.default"); // discovery done, warm
    entra.faults.inject({ kind: "latency", ms: 300, endpoint: "token", times: 1 });
    const started = performance.now();
    await cred.getToken(SQL_SCOPE);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("malformed JSON surfaces as an error", async () => {
    entra.faults.inject({ kind: "malformedJson", endpoint: "token" });
    await expect(credential({ maxRetries: 0 }).getToken(SQL_SCOPE)).rejects.toThrow();
  });

  it("an invalidClient fault for one client id leaves the others alone", async () => {
    const other = entra.registerApp({ displayName: "unaffected-app", clientSecret: true });
    entra.faults.inject({ kind: "invalidClient", endpoint: "token", clientId: app.clientId });
    await expect(credential().getToken(SQL_SCOPE)).rejects.toThrow(/AADSTS7000215/);
    const token = await credential({ clientId: other.clientId, secret: other.clientSecret }).getToken(
      SQL_SCOPE,
    );
    await verifyAccessToken(entra, token.token, { principal: other });
  });
});
