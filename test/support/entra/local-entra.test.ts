import { once } from "node:events";
import { existsSync } from "node:fs";
import net from "node:net";
import { inspect } from "node:util";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AmbiguousPrincipalError } from "./directory.js";
import type { LocalEntraEvent } from "./events.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { expectNoSecrets, fetchJwks, postToken, request, verifyAccessToken } from "./test-helpers.js";

// The IdP at the protocol level (raw HTTPS/HTTP, no credential library): discovery, JWKS, token
// endpoint errors, the managed-identity endpoints' request checks, hand-made tokens, settings,
// faults, counters, and the no-secrets guarantees. The @azure/identity credentials are exercised
// in the other files of this directory (one process each).

let entra: LocalEntra;
const events: LocalEntraEvent[] = [];

beforeAll(async () => {
  entra = await startLocalEntra({ onEvent: (event) => events.push(event) });
});

afterAll(async () => {
  await entra?.close();
});

afterEach(async () => {
  await entra.faults.clear();
  entra.settings.reset();
});

function clientCredentials(clientId: string, secret: string, scope = SQL_SCOPE): Record<string, string> {
  return { grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope };
}

describe("start-up and discovery", () => {
  it("serves HTTPS on 127.0.0.1 with a certificate from the CA, and refuses clients that do not trust it", async () => {
    expect(entra.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(entra.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(entra.issuer()).toBe(`https://sts.windows.net/${entra.tenantId}/`);
    expect(entra.tokenEndpoint()).toBe(`${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/token`);
    await expect(request(entra.jwksUri)).rejects.toThrow(/self[- ]signed|unable to verify|local issuer/i);
  });

  it("publishes v2.0 and v1 OpenID configurations with Entra's fields", async () => {
    const v2 = (await request(entra.openIdConfigurationUrl(), { ca: entra.caPem })).json();
    expect(v2).toMatchObject({
      issuer: `${entra.authorityHost}/${entra.tenantId}/v2.0`,
      token_endpoint: entra.tokenEndpoint(),
      authorization_endpoint: `${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/authorize`,
      jwks_uri: `${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`,
      id_token_signing_alg_values_supported: ["RS256"],
    });
    const v1 = (await request(entra.openIdConfigurationUrl(entra.tenantId, 1), { ca: entra.caPem })).json();
    expect(v1).toMatchObject({ issuer: entra.issuer(), jwks_uri: entra.jwksUri });
    const common = (await request(entra.openIdConfigurationUrl("common"), { ca: entra.caPem })).json();
    expect(common.issuer).toBe(`${entra.authorityHost}/{tenantid}/v2.0`);
  });

  it("answers an unknown tenant with AADSTS90002 invalid_tenant", async () => {
    const response = await request(entra.openIdConfigurationUrl("not-a-tenant"), { ca: entra.caPem });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: "invalid_tenant", error_codes: [90002] });
  });

  it("serves the same signing keys at every JWKS URL", async () => {
    const urls = [
      entra.jwksUri,
      `${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`,
      `${entra.authorityHost}/${entra.tenantId}/discovery/keys`,
    ];
    const bodies = await Promise.all(
      urls.map((url) => request(url, { ca: entra.caPem }).then((r) => r.json())),
    );
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    expect(bodies[0]).toEqual(entra.jwks());
    expect(entra.jwks().keys[0]).toMatchObject({ kty: "RSA", use: "sig", kid: expect.any(String) });
    expect(JSON.stringify(entra.jwks())).not.toMatch(/"d"|"p"|"q"/);
  });
});

describe("token endpoint (raw protocol)", () => {
  it("issues an RS256 v1 token with the resource as audience, as given (trailing slash kept)", async () => {
    const app = entra.registerApp({ displayName: "raw-secret-app", clientSecret: true });
    const response = await postToken(entra, clientCredentials(app.clientId, app.clientSecret ?? ""));
    expect(response.status).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, ext_expires_in: 3600 });
    expect(body.refresh_in).toBeUndefined();
    const payload = await verifyAccessToken(entra, String(body.access_token), { principal: app });
    expect(payload.appidacr).toBe("1");
    expect(payload.exp).toBe((payload.iat ?? 0) + 3600);

    const noSlash = await postToken(
      entra,
      clientCredentials(app.clientId, app.clientSecret ?? "", "https://database.windows.net/.default"),
    );
    await verifyAccessToken(entra, String(noSlash.json().access_token), {
      principal: app,
      audience: "https://database.windows.net",
    });
  });

  it("rejects requests the way Entra does, in Entra's error shape", async () => {
    const app = entra.registerApp({ displayName: "raw-errors-app", clientSecret: "the-right-secret-value" });
    const cases: Array<[Record<string, string>, number, string, number, string?]> = [
      [{ client_id: app.clientId, scope: SQL_SCOPE }, 400, "invalid_request", 900144],
      [
        { ...clientCredentials(app.clientId, "x"), grant_type: "password" },
        400,
        "unsupported_grant_type",
        70003,
      ],
      [clientCredentials(app.clientId, "wrong-secret-value"), 401, "invalid_client", 7000215],
      [clientCredentials("11111111-2222-3333-4444-555555555555", "x"), 400, "unauthorized_client", 700016],
      [
        clientCredentials(app.clientId, "the-right-secret-value", "https://database.windows.net/"),
        400,
        "invalid_scope",
        1002012,
      ],
      [
        clientCredentials(
          app.clientId,
          "the-right-secret-value",
          `${SQL_SCOPE} https://graph.microsoft.com/.default`,
        ),
        400,
        "invalid_scope",
        28000,
      ],
      [
        clientCredentials(app.clientId, "the-right-secret-value", "https://unknown.example.com/.default"),
        400,
        "invalid_resource",
        500011,
      ],
      [
        { grant_type: "client_credentials", client_id: app.clientId, scope: SQL_SCOPE },
        401,
        "invalid_client",
        7000216,
      ],
    ];
    for (const [form, status, error, code] of cases) {
      const response = await postToken(entra, form);
      expect({ form, status: response.status }).toEqual({ form, status });
      const body = response.json();
      expect(body).toMatchObject({ error, error_codes: [code] });
      expect(String(body.error_description)).toMatch(
        new RegExp(
          `^AADSTS${code}: .* Trace ID: \\S+ Correlation ID: \\S+ Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
        ),
      );
      expect(body).toMatchObject({
        trace_id: expect.any(String),
        correlation_id: expect.any(String),
        timestamp: expect.any(String),
      });
    }
    const wrongTenant = await postToken(entra, clientCredentials(app.clientId, "x"), "common");
    expect(wrongTenant.json().error_codes).toEqual([90002]);
  });

  it("echoes the client's correlation id like Entra", async () => {
    const response = await request(entra.tokenEndpoint(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "client-request-id": "corr-1234-abcd" },
      body: new URLSearchParams(clientCredentials("11111111-2222-3333-4444-555555555555", "x")).toString(),
      ca: entra.caPem,
    });
    expect(response.json().correlation_id).toBe("corr-1234-abcd");
  });

  it("refuses disabled (AADSTS7000112) and revoked (AADSTS700016) apps, and a reset secret", async () => {
    const app = entra.registerApp({ displayName: "lifecycle-app", clientSecret: true });
    const secret = app.clientSecret ?? "";
    entra.disable(app);
    let response = await postToken(entra, clientCredentials(app.clientId, secret));
    expect(response.json()).toMatchObject({ error: "unauthorized_client", error_codes: [7000112] });
    expect(String(response.json().error_description)).toContain(
      `Application '${app.clientId}'(lifecycle-app) is disabled.`,
    );
    entra.enable(app);
    expect((await postToken(entra, clientCredentials(app.clientId, secret))).status).toBe(200);
    const newSecret = entra.resetClientSecret(app);
    expect((await postToken(entra, clientCredentials(app.clientId, secret))).status).toBe(401);
    expect((await postToken(entra, clientCredentials(app.clientId, newSecret))).status).toBe(200);
    entra.revoke(app);
    response = await postToken(entra, clientCredentials(app.clientId, newSecret));
    expect(response.json()).toMatchObject({ error: "unauthorized_client", error_codes: [700016] });
  });

  it("honours tokenLifetimeSeconds, refreshInSeconds and clockOffsetMs", async () => {
    const app = entra.registerApp({ displayName: "settings-app", clientSecret: true });
    entra.settings.tokenLifetimeSeconds = 120;
    entra.settings.refreshInSeconds = 60;
    entra.settings.clockOffsetMs = -3_600_000;
    const body = (await postToken(entra, clientCredentials(app.clientId, app.clientSecret ?? ""))).json();
    expect(body).toMatchObject({ expires_in: 120, refresh_in: 60 });
    const [, payloadPart] = String(body.access_token).split(".");
    const payload = JSON.parse(Buffer.from(payloadPart ?? "", "base64url").toString()) as Record<
      string,
      number
    >;
    const expectedIat = Math.floor((Date.now() - 3_600_000) / 1000);
    expect(Math.abs((payload.iat ?? 0) - expectedIat)).toBeLessThanOrEqual(2);
    expect(payload.exp).toBe((payload.iat ?? 0) + 120);
    expect(() => {
      entra.settings.tokenLifetimeSeconds = -1;
    }).toThrow(/tokenLifetimeSeconds/);
  });
});

describe("managed-identity endpoints (raw protocol; credentials are tested in their own processes)", () => {
  it("App Service: plain http, needs x-identity-header, answers expires_on as epoch seconds string", async () => {
    expect(entra.identityEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const mi = entra.registerManagedIdentity({ displayName: "raw-app-service-mi", kind: "user" });
    const url = `${entra.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent("https://database.windows.net/")}&client_id=${mi.clientId}`;
    const noHeader = await request(url);
    expect(noHeader.status).toBe(401);
    const wrongHeader = await request(url, { headers: { "x-identity-header": "nope" } });
    expect(wrongHeader.status).toBe(401);
    const ok = await request(url, { headers: { "x-identity-header": entra.identityHeader } });
    expect(ok.status).toBe(200);
    const body = ok.json();
    expect(body).toMatchObject({
      token_type: "Bearer",
      client_id: mi.clientId,
      resource: "https://database.windows.net/",
    });
    expect(body.expires_on).toMatch(/^\d{10}$/);
    await verifyAccessToken(entra, String(body.access_token), { principal: mi });
    const unknown = await request(url.replace(mi.clientId, "00000000-0000-0000-0000-000000000000"), {
      headers: { "x-identity-header": entra.identityHeader },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toMatchObject({
      statusCode: 400,
      message: "Unable to load the proper Managed Identity.",
    });
  });

  it("IMDS: plain http, needs Metadata: true, unknown identity is 'Identity not found'", async () => {
    expect(entra.imdsHost).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const mi = entra.registerManagedIdentity({ displayName: "raw-imds-mi", kind: "user" });
    const url = `${entra.imdsHost}/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https%3A%2F%2Fdatabase.windows.net%2F&msi_res_id=${encodeURIComponent(mi.resourceId)}`;
    const noMetadata = await request(url);
    expect(noMetadata.status).toBe(400);
    expect(noMetadata.json()).toEqual({
      error: "invalid_request",
      error_description: "Required metadata header not specified",
    });
    const ok = await request(url, { headers: { Metadata: "true" } });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ client_id: mi.clientId, expires_on: expect.stringMatching(/^\d+$/) });
    const unknown = await request(`${url}x`, { headers: { Metadata: "true" } });
    expect(unknown.json()).toEqual({ error: "invalid_request", error_description: "Identity not found" });
    const unknownResource = await request(url.replace("database.windows.net", "nowhere.example"), {
      headers: { Metadata: "true" },
    });
    expect(unknownResource.status).toBe(400);
    expect(String(unknownResource.json().error_description)).toContain("AADSTS500011");
  });
});

describe("hand-made tokens and signing keys", () => {
  it("mints tokens that verify, and ones that must not (expired, wrong audience, foreign issuer, unpublished key)", async () => {
    const user = entra.registerUser({ upn: "mint.user@contoso.example", displayName: "Mint User" });
    const good = entra.mintAccessToken({ principal: user });
    await verifyAccessToken(entra, good.token, { principal: user });
    expect(good.claims).toMatchObject({ upn: user.upn, idtyp: "user", scp: "user_impersonation" });

    const keySet = createLocalJWKSet(await fetchJwks(entra));
    const verify = (token: string) =>
      jwtVerify(token, keySet, { issuer: entra.issuer(), audience: "https://database.windows.net/" });
    const expired = entra.mintAccessToken({ principal: user, lifetimeSeconds: -60 });
    await expect(verify(expired.token)).rejects.toMatchObject({ code: "ERR_JWT_EXPIRED" });
    const wrongAudience = entra.mintAccessToken({
      principal: user,
      resource: "https://graph.microsoft.com/",
    });
    await expect(verify(wrongAudience.token)).rejects.toMatchObject({
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    });
    const foreign = entra.mintAccessToken({ principal: user, issuer: "https://sts.windows.net/evil/" });
    await expect(verify(foreign.token)).rejects.toMatchObject({ claim: "iss" });
    const untrusted = entra.mintAccessToken({ principal: user, signWith: "untrusted" });
    await expect(verify(untrusted.token)).rejects.toMatchObject({
      code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    });
    const unknownKid = entra.mintAccessToken({
      principal: user,
      signWith: "untrusted",
      kid: "not-published",
    });
    await expect(verify(unknownKid.token)).rejects.toMatchObject({ code: "ERR_JWKS_NO_MATCHING_KEY" });
    const notYet = entra.mintAccessToken({ principal: user, notBefore: new Date(Date.now() + 3_600_000) });
    await expect(verify(notYet.token)).rejects.toMatchObject({ claim: "nbf" });
    const ghost = entra.mintAccessToken({
      principal: {
        kind: "app",
        objectId: "0f0f0f0f-0000-0000-0000-000000000000",
        tenantId: entra.tenantId,
        displayName: "ghost",
        clientId: "abc",
      },
    });
    expect((await verify(ghost.token)).payload.oid).toBe("0f0f0f0f-0000-0000-0000-000000000000");
  });

  it("rotates the signing key: JWKS lists current and previous; the one before drops out", async () => {
    const app = entra.registerApp({ displayName: "rotation-app" });
    const before = entra.mintAccessToken({ principal: app });
    const oldKid = entra.jwks().keys[0]?.kid;
    const newKid = await entra.rotateSigningKey();
    expect(entra.jwks().keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    await verifyAccessToken(entra, before.token, { principal: app });
    const after = entra.mintAccessToken({ principal: app });
    await verifyAccessToken(entra, after.token, { principal: app });
    expect(JSON.parse(Buffer.from(after.token.split(".")[0] ?? "", "base64url").toString()).kid).toBe(newKid);
    await entra.rotateSigningKey();
    expect(entra.jwks().keys.map((k) => k.kid)).not.toContain(oldKid);
    await expect(verifyAccessToken(entra, before.token, { principal: app })).rejects.toThrow(
      /no applicable key|matching key/i,
    );
    expect(events.some((e) => e.type === "keyRotated" && e.kid === newKid)).toBe(true);
  });
});

describe("directory", () => {
  it("registers identities with distinct ids and resolves names as CREATE USER ... FROM EXTERNAL PROVIDER does", () => {
    const user = entra.registerUser({ upn: "Alice@Contoso.example" });
    const app = entra.registerApp({ displayName: "Orders API" });
    const mi = entra.registerManagedIdentity({ displayName: "orders-vm", kind: "system" });
    expect(app.objectId).not.toBe(app.clientId);
    expect(mi.objectId).not.toBe(mi.clientId);
    expect(mi.resourceId).toMatch(/^\/subscriptions\/[0-9a-f-]+\/resourceGroups\/.+\/sites\/orders-vm$/);
    expect(entra.findPrincipalByName("alice@contoso.example")).toMatchObject({
      kind: "user",
      objectId: user.objectId,
      upn: user.upn,
    });
    expect(entra.findPrincipalByName("orders api")).toMatchObject({
      kind: "app",
      objectId: app.objectId,
      clientId: app.clientId,
    });
    expect(entra.findPrincipalByName("orders-vm")).toMatchObject({
      kind: "managedIdentity",
      clientId: mi.clientId,
      assignment: "system",
    });
    expect(entra.findPrincipalByName("nobody")).toBeUndefined();
    expect(entra.findPrincipalByObjectId(app.objectId)?.displayName).toBe("Orders API");
    expect(() => entra.registerManagedIdentity({ displayName: "second-system", kind: "system" })).toThrow(
      /system-assigned/,
    );
    entra.registerApp({ displayName: "Orders API" });
    expect(() => entra.findPrincipalByName("Orders API")).toThrow(AmbiguousPrincipalError);
    entra.disable(user);
    expect(entra.findPrincipalByName(user.upn)?.enabled).toBe(false);
    entra.revoke(user);
    expect(entra.findPrincipalByName(user.upn)).toBeUndefined();
  });

  it("supports more than one tenant", async () => {
    const other = entra.addTenant();
    const app = entra.registerApp({ displayName: "other-tenant-app", clientSecret: true, tenantId: other });
    const inOther = await postToken(entra, clientCredentials(app.clientId, app.clientSecret ?? ""), other);
    await verifyAccessToken(entra, String(inOther.json().access_token), { principal: app, tenantId: other });
    const inDefault = await postToken(entra, clientCredentials(app.clientId, app.clientSecret ?? ""));
    expect(inDefault.json().error_codes).toEqual([700016]);
  });
});

describe("faults", () => {
  it("outage: the listener refuses connections, then reopens on the same port", async () => {
    const handle = entra.faults.inject({ kind: "outage", endpoint: "token" });
    await expect(request(entra.jwksUri, { ca: entra.caPem })).rejects.toMatchObject({ code: "ECONNREFUSED" });
    // The other listeners are unaffected.
    expect((await request(`${entra.imdsHost}/metadata/identity/oauth2/token`)).status).toBe(400);
    await handle.clear();
    expect((await request(entra.jwksUri, { ca: entra.caPem })).status).toBe(200);
    expect(() => entra.faults.inject({ kind: "outage", clientId: "x" })).toThrow(/cannot target a client/);
  });

  it("serverError / throttle / malformedJson / invalidClient for the next N requests, per client", async () => {
    const a = entra.registerApp({ displayName: "fault-a", clientSecret: true });
    const b = entra.registerApp({ displayName: "fault-b", clientSecret: true });
    const formA = clientCredentials(a.clientId, a.clientSecret ?? "");
    const formB = clientCredentials(b.clientId, b.clientSecret ?? "");
    entra.faults.inject({ kind: "serverError", endpoint: "token", clientId: a.clientId, times: 1 });
    expect((await postToken(entra, formB)).status).toBe(200);
    expect((await postToken(entra, formA)).status).toBe(500);
    expect((await postToken(entra, formA)).status).toBe(200);

    const throttle = entra.faults.inject({
      kind: "throttle",
      retryAfterSeconds: 7,
      endpoint: "token",
      times: 2,
    });
    const throttled = await postToken(entra, formA);
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("7");
    expect(throttle.remaining).toBe(1);
    await postToken(entra, formA);
    expect(throttle.active).toBe(false);

    entra.faults.inject({ kind: "malformedJson", endpoint: "token", times: 1 });
    const malformed = await postToken(entra, formA);
    expect(malformed.status).toBe(200);
    expect(() => malformed.json()).toThrow(SyntaxError);

    entra.faults.inject({ kind: "invalidClient", endpoint: "any", times: 1 });
    expect((await postToken(entra, formA)).json()).toMatchObject({
      error: "invalid_client",
      error_codes: [7000215],
    });
    expect((await postToken(entra, formA)).status).toBe(200);
  });

  it("latency delays the response by at least the given time", async () => {
    entra.faults.inject({ kind: "latency", ms: 250, endpoint: "jwks", times: 1 });
    const started = performance.now();
    await request(entra.jwksUri, { ca: entra.caPem });
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    const log = entra.requestLog.at(-1);
    expect(log).toMatchObject({ endpoint: "jwks", fault: "latency" });
  });
});

describe("counters, request log, secrecy", () => {
  it("counts requests and tokens per endpoint and identity, and logs without secrets", async () => {
    const cert = `-----BEGIN CERTIFICATE-----`;
    const app = entra.registerApp({
      displayName: "counted-app",
      clientSecret: "counted-app-secret-value-123",
    });
    entra.counters.reset();
    await postToken(entra, clientCredentials(app.clientId, "counted-app-secret-value-123"));
    await postToken(entra, clientCredentials(app.clientId, "a-wrong-secret-value-456"));
    await request(entra.jwksUri, { ca: entra.caPem });
    expect(entra.counters.forEndpoint("token")).toEqual({ requests: 2, tokensIssued: 1 });
    expect(entra.counters.forEndpoint("jwks")).toEqual({ requests: 1, tokensIssued: 0 });
    expect(entra.counters.forIdentity(app.clientId)).toEqual({ requests: 2, tokensIssued: 1 });
    expect(entra.counters.snapshot().total).toEqual({ requests: 3, tokensIssued: 1 });
    const log = entra.requestLog;
    expect(log).toHaveLength(3);
    expect(log[0]).toMatchObject({
      endpoint: "token",
      method: "POST",
      path: `/${entra.tenantId}/oauth2/v2.0/token`,
      clientId: app.clientId,
      resource: "https://database.windows.net/",
      status: 200,
      time: expect.any(Number),
    });
    expect(log[1]).toMatchObject({ status: 401, error: "invalid_client" });
    expectNoSecrets(JSON.stringify(log), ["counted-app-secret-value-123", "a-wrong-secret-value-456"]);
    expect(JSON.stringify(log)).not.toContain(cert);
  });

  it("never reveals secrets, assertions, tokens or private keys through inspect, JSON, the log or events", async () => {
    const app = entra.registerApp({ displayName: "secret-holder", clientSecret: true });
    const secret = app.clientSecret ?? "";
    const response = await postToken(entra, clientCredentials(app.clientId, secret));
    const token = String(response.json().access_token);
    const assertion = entra.mintFederatedAssertion({ subject: "system:serviceaccount:ns:sa" });
    const minted = entra.mintAccessToken({ principal: app }).token;
    const haystack = [
      inspect(entra, { depth: 10, showHidden: true }),
      JSON.stringify(entra),
      JSON.stringify(entra.requestLog),
      JSON.stringify(events),
      inspect(events, { depth: 10 }),
      JSON.stringify(app),
      inspect(app),
    ].join("\n");
    expectNoSecrets(haystack, [secret, token, assertion, minted, entra.identityHeader]);
    expect(haystack).not.toMatch(/PRIVATE KEY|"d":/);
    // The registration still hands the secret to the test that asked for it.
    expect(secret).toMatch(/^.{3}8Q~.{34}$/);
  });

  it("close() stops every listener, removes the fake CLIs, and is idempotent; `port` fixes the port", async () => {
    const probe = net.createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const extra = await startLocalEntra({ port, tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" });
    expect(extra.authorityHost).toBe(`https://127.0.0.1:${port}`);
    expect(extra.tenantId).toBe("72f988bf-86f1-41af-91ab-2d7cd011db47");
    const binDir = extra.cli.binDir;
    expect(existsSync(`${binDir}/az`)).toBe(true);
    await Promise.all([extra.close(), extra.close()]);
    await extra.close();
    await expect(request(extra.jwksUri, { ca: extra.caPem })).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(request(`${extra.imdsHost}/`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(existsSync(binDir)).toBe(false);
  });
});
