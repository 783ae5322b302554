import { ClientCertificateCredential } from "@azure/identity";
import { importPKCS8, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
} from "../pki/certificate-authority.js";
import type { RegisteredApp } from "./directory.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { postToken, verifyAccessToken } from "./test-helpers.js";

// Certificate credentials: a real ClientCertificateCredential (msal-node signs a PS256 assertion
// with an `x5t#S256` header), plus hand-made assertions for the checks msal never gets wrong.

let ca: CertificateAuthority;
let entra: LocalEntra;
let cert: IssuedCertificate;
let unregistered: IssuedCertificate;
let app: RegisteredApp;

beforeAll(async () => {
  ca = await createCertificateAuthority();
  [entra, cert, unregistered] = await Promise.all([
    startLocalEntra({ ca }),
    ca.issue({ commonName: "orders-api client", usage: "client" }),
    ca.issue({ commonName: "stranger", usage: "client" }),
  ]);
  app = entra.registerApp({ displayName: "orders-api-cert", certificate: cert });
});

afterAll(async () => {
  await entra?.close();
});

function credential(bundlePem: string, options: { sendCertificateChain?: boolean } = {}) {
  return new ClientCertificateCredential(
    entra.tenantId,
    app.clientId,
    { certificate: bundlePem },
    { ...entra.credentialOptions(), ...options },
  );
}

/** An assertion as older clients build it (RS256, `x5t`), with overridable claims and header. */
async function assertion(
  claims: Record<string, unknown> = {},
  options: { alg?: "RS256" | "PS256"; key?: IssuedCertificate; header?: Record<string, unknown> } = {},
): Promise<string> {
  const alg = options.alg ?? "RS256";
  const signer = options.key ?? cert;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: entra.tokenEndpoint(),
    iss: app.clientId,
    sub: app.clientId,
    jti: crypto.randomUUID(),
    nbf: now,
    exp: now + 600,
    ...claims,
  })
    .setProtectedHeader({
      alg,
      typ: "JWT",
      x5t: Buffer.from(cert.thumbprintSha1, "hex").toString("base64url"),
      ...options.header,
    })
    .sign(await importPKCS8(signer.privateKeyPem, alg));
}

function postAssertion(clientAssertion: string) {
  return postToken(entra, {
    grant_type: "client_credentials",
    client_id: app.clientId,
    scope: SQL_SCOPE,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: clientAssertion,
  });
}

describe("ClientCertificateCredential", () => {
  it("gets a verifiable token with a registered certificate (PS256, x5t#S256)", async () => {
    const token = await credential(cert.bundlePem).getToken(SQL_SCOPE);
    const payload = await verifyAccessToken(entra, token.token, { principal: app });
    expect(payload.appidacr).toBe("2");
    const tokenRequests = entra.requestLog.filter((e) => e.endpoint === "token");
    expect(tokenRequests.at(-1)).toMatchObject({ status: 200, clientId: app.clientId });
  });

  it("also with the certificate chain sent (x5c header)", async () => {
    const token = await credential(cert.bundlePem, { sendCertificateChain: true }).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: app });
  });

  it("a certificate not registered on the app fails with AADSTS700027", async () => {
    const error = await credential(unregistered.bundlePem)
      .getToken(SQL_SCOPE)
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/invalid_client/);
    expect((error as Error).message).toMatch(
      /AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application/,
    );
    const log = JSON.stringify(entra.requestLog);
    expect(log).not.toContain("client_assertion");
    expect(log).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });
});

describe("client assertion checks (hand-made assertions)", () => {
  it("accepts RS256 with x5t (SHA-1 thumbprint)", async () => {
    const response = await postAssertion(await assertion());
    expect(response.status).toBe(200);
  });

  it("rejects a signature by another key under the registered thumbprint (AADSTS700027)", async () => {
    const response = await postAssertion(await assertion({}, { key: unregistered }));
    expect(response.status).toBe(401);
    expect(response.json()).toMatchObject({ error: "invalid_client", error_codes: [700027] });
    expect(String(response.json().error_description)).toContain(
      "Client assertion failed signature validation.",
    );
  });

  it("rejects an expired assertion beyond the skew tolerance (AADSTS700024), accepts within it", async () => {
    const now = Math.floor(Date.now() / 1000);
    const late = await postAssertion(await assertion({ nbf: now - 1200, exp: now - 400 }));
    expect(late.json()).toMatchObject({ error: "invalid_client", error_codes: [700024] });
    const slightlyLate = await postAssertion(await assertion({ nbf: now - 1200, exp: now - 60 }));
    expect(slightlyLate.status).toBe(200);
    const early = await postAssertion(await assertion({ nbf: now + 900, exp: now + 1500 }));
    expect(early.json().error_codes).toEqual([700024]);
  });

  it("rejects a wrong audience (AADSTS50012) and a foreign sub (AADSTS700021)", async () => {
    const wrongAud = await postAssertion(
      await assertion({ aud: "https://login.microsoftonline.com/x/oauth2/v2.0/token" }),
    );
    expect(wrongAud.json()).toMatchObject({ error: "invalid_client", error_codes: [50012] });
    const wrongSub = await postAssertion(await assertion({ sub: "someone-else" }));
    expect(wrongSub.json()).toMatchObject({ error: "invalid_client", error_codes: [700021] });
  });

  it("rejects garbage (AADSTS50027) and an assertion with no thumbprint header", async () => {
    expect((await postAssertion("not.a.jwt")).json().error_codes).toEqual([50027]);
    const noThumbprint = await assertion({}, { header: { x5t: undefined } });
    expect((await postAssertion(noThumbprint)).json().error_codes).toEqual([700027]);
  });
});
