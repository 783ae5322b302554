import { DefaultAzureCredential, WorkloadIdentityCredential } from "@azure/identity";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RegisteredApp } from "./directory.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";
import { request, verifyAccessToken } from "./test-helpers.js";

// Workload identity federation: a real WorkloadIdentityCredential reads a Kubernetes-style
// service-account token from a file and exchanges it at the token endpoint. The local IdP plays
// the cluster's issuer (separate key, its own discovery documents) as well as Entra ID.

const SUBJECT = "system:serviceaccount:orders:orders-api";
let entra: LocalEntra;
let app: RegisteredApp;

beforeAll(async () => {
  entra = await startLocalEntra();
  app = entra.registerApp({
    displayName: "orders-api-workload",
    federatedCredentials: [{ issuer: entra.federatedIssuer, subject: SUBJECT }],
  });
});

afterAll(async () => {
  await entra?.close();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function credentialFor(
  assertion: string,
  clientId = app.clientId,
): Promise<WorkloadIdentityCredential> {
  return new WorkloadIdentityCredential({
    tenantId: entra.tenantId,
    clientId,
    tokenFilePath: await entra.writeFederatedTokenFile(assertion),
    ...entra.credentialOptions(),
  });
}

describe("WorkloadIdentityCredential", () => {
  it("exchanges a service-account token from the token file for a verifiable token", async () => {
    const credential = await credentialFor(entra.mintFederatedAssertion({ subject: SUBJECT }));
    const token = await credential.getToken(SQL_SCOPE);
    const payload = await verifyAccessToken(entra, token.token, { principal: app });
    expect(payload.appidacr).toBe("2");
  });

  it("the federated issuer publishes discovery and keys, separate from Entra's signing keys", async () => {
    const config = (
      await request(`${entra.federatedIssuer}.well-known/openid-configuration`, { ca: entra.caPem })
    ).json();
    expect(config.issuer).toBe(entra.federatedIssuer);
    const jwks = (await request(String(config.jwks_uri), { ca: entra.caPem })).json() as {
      keys: Array<{ kid: string }>;
    };
    expect(jwks.keys).toHaveLength(1);
    expect(entra.jwks().keys.map((k) => k.kid)).not.toContain(jwks.keys[0]?.kid);
    const [, payload] = entra.mintFederatedAssertion({ subject: SUBJECT }).split(".");
    expect(JSON.parse(Buffer.from(payload ?? "", "base64url").toString())).toMatchObject({
      iss: entra.federatedIssuer,
      sub: SUBJECT,
      aud: ["api://AzureADTokenExchange"],
      "kubernetes.io": { namespace: "orders", serviceaccount: { name: "orders-api" } },
    });
  });

  it("rejects a mismatched subject (AADSTS700213), audience (700212) and issuer (700211)", async () => {
    const wrongSubject = await credentialFor(
      entra.mintFederatedAssertion({ subject: "system:serviceaccount:x:y" }),
    );
    await expect(wrongSubject.getToken(SQL_SCOPE)).rejects.toThrow(
      /AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:x:y'/,
    );
    const wrongAudience = await credentialFor(
      entra.mintFederatedAssertion({ subject: SUBJECT, audience: "api://SomethingElse" }),
    );
    await expect(wrongAudience.getToken(SQL_SCOPE)).rejects.toThrow(/AADSTS700212/);
    const otherIssuerApp = entra.registerApp({
      displayName: "trusts-github-only",
      federatedCredentials: [{ issuer: "https://token.actions.githubusercontent.com", subject: SUBJECT }],
    });
    const wrongIssuer = await credentialFor(
      entra.mintFederatedAssertion({ subject: SUBJECT }),
      otherIssuerApp.clientId,
    );
    await expect(wrongIssuer.getToken(SQL_SCOPE)).rejects.toThrow(/AADSTS700211/);
  });

  it("rejects a forged signature (AADSTS700027) and an expired token (AADSTS700024)", async () => {
    const forged = await credentialFor(entra.mintFederatedAssertion({ subject: SUBJECT, untrusted: true }));
    await expect(forged.getToken(SQL_SCOPE)).rejects.toThrow(/AADSTS700027/);
    const now = Math.floor(entra.now() / 1000);
    const expired = await credentialFor(
      entra.mintFederatedAssertion({ subject: SUBJECT, notBefore: now - 7200, expiresAt: now - 3600 }),
    );
    await expect(expired.getToken(SQL_SCOPE)).rejects.toThrow(/AADSTS700024/);
  });

  it("trusts an external issuer registered with its keys (e.g. GitHub Actions)", async () => {
    const issuer = "https://token.actions.githubusercontent.com";
    const subject = "repo:contoso/orders:environment:prod";
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    entra.registerFederatedIssuer(issuer, {
      keys: [{ ...(await exportJWK(publicKey)), kid: "gh-1", alg: "RS256" }],
    });
    const ghApp = entra.registerApp({
      displayName: "orders-deployer",
      federatedCredentials: [{ issuer, subject }],
    });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256", kid: "gh-1" })
      .setIssuer(issuer)
      .setSubject(subject)
      .setAudience("api://AzureADTokenExchange")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    const token = await (await credentialFor(assertion, ghApp.clientId)).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: ghApp });
  });

  it("DefaultAzureCredential with AZURE_TOKEN_CREDENTIALS=WorkloadIdentityCredential picks it from the environment", async () => {
    const tokenFilePath = await entra.writeFederatedTokenFile({ subject: SUBJECT });
    for (const [name, value] of Object.entries(
      entra.env.workloadIdentity({ clientId: app.clientId, tokenFilePath }),
    )) {
      vi.stubEnv(name, value);
    }
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential");
    const token = await new DefaultAzureCredential(entra.credentialOptions()).getToken(SQL_SCOPE);
    await verifyAccessToken(entra, token.token, { principal: app });
  });
});
