import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isTokenAcquisitionError, type TokenAcquisitionError } from "@entra-sql/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type LocalEntra,
  type RegisteredApp,
  type RegisteredUser,
  SQL_SCOPE,
  startLocalEntra,
} from "../../support/entra/index.js";
import {
  createCertificateAuthority,
  type IssuedCertificate,
} from "../../support/pki/certificate-authority.js";
import { eventLines, expectNothingLeaked, expectTokenOf, recordingChain, stubAzureEnv } from "./helpers.js";

// Every non-managed-identity preset against the local Entra ID with real @azure/identity
// credentials and the fake az/azd on PATH. Environment variables are stubbed per test and restored.
// (Managed identity and the "default" chain each have their own file: msal-node's managed-identity
// state is process-wide, and "default" builds a ManagedIdentityCredential.)

const SUBJECT = "system:serviceaccount:orders:orders-api";
let entra: LocalEntra;
let secretApp: RegisteredApp;
let certApp: RegisteredApp;
let workloadApp: RegisteredApp;
let alice: RegisteredUser;
let cert: IssuedCertificate;
let certificatePath: string;
let tempDir: string;

beforeAll(async () => {
  const ca = await createCertificateAuthority();
  [entra, cert] = await Promise.all([
    startLocalEntra({ ca }),
    ca.issue({ commonName: "orders-api client", usage: "client" }),
  ]);
  secretApp = entra.registerApp({ displayName: "orders-api", clientSecret: true });
  certApp = entra.registerApp({ displayName: "orders-api-cert", certificate: cert });
  workloadApp = entra.registerApp({
    displayName: "orders-api-workload",
    federatedCredentials: [{ issuer: entra.federatedIssuer, subject: SUBJECT }],
  });
  alice = entra.registerUser({ upn: "alice@contoso.example", displayName: "Alice Admin" });
  tempDir = await mkdtemp(path.join(tmpdir(), "credential-presets-"));
  certificatePath = path.join(tempDir, "sp.pem");
  await writeFile(certificatePath, cert.bundlePem, { mode: 0o600 });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await entra?.close();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

beforeEach(() => {
  stubAzureEnv({}, entra.imdsHost);
  vi.stubEnv("PATH", entra.cli.pathWithCli());
});

afterEach(async () => {
  vi.unstubAllEnvs();
  entra.cli.logout();
  await entra.faults.clear();
});

describe("service-principal", () => {
  it("with a client secret", async () => {
    const { chain, events } = recordingChain(
      {
        type: "service-principal",
        tenantId: entra.tenantId,
        clientId: secretApp.clientId,
        clientSecret: secretApp.clientSecret ?? "",
      },
      entra.credentialOptions(),
    );
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("ClientSecretCredential");
    expect(chain.activeSource).toBe("ClientSecretCredential");
    expectTokenOf(token.token, secretApp);
    expect(eventLines(events)).toEqual(["selected ClientSecretCredential"]);
  });

  it("with a certificate file and with certificate PEM text", async () => {
    const base = { type: "service-principal", tenantId: entra.tenantId, clientId: certApp.clientId } as const;
    for (const spec of [
      { ...base, certificatePath },
      { ...base, certificatePem: cert.bundlePem },
    ]) {
      const { chain } = recordingChain(spec, entra.credentialOptions());
      const { token, source } = await chain.getToken(SQL_SCOPE);
      expect(source).toBe("ClientCertificateCredential");
      expect(expectTokenOf(token.token, certApp).appidacr).toBe("2");
    }
  });

  it("a wrong secret: TokenAcquisitionError with AADSTS7000215 and the fix, never the secret", async () => {
    const wrong = "Wr0ngQ~notTheSecretAtAll0123456789abcdef";
    const { chain, events } = recordingChain(
      {
        type: "service-principal",
        tenantId: entra.tenantId,
        clientId: secretApp.clientId,
        clientSecret: wrong,
      },
      { ...entra.credentialOptions(), retryOptions: { maxRetries: 0 } },
    );
    const error = (await chain.getToken(SQL_SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(isTokenAcquisitionError(error)).toBe(true);
    expect(error.failures).toEqual([
      {
        source: "ClientSecretCredential",
        kind: "authentication",
        message: expect.stringMatching(/AADSTS7000215/),
        fix: expect.stringMatching(/^The client secret is wrong or expired: create a new one/),
      },
    ]);
    expect(JSON.stringify([error.message, error.failures, events])).not.toContain(wrong);
  });
});

describe("workload-identity", () => {
  it("from the preset's settings (federated token file)", async () => {
    const tokenFilePath = await entra.writeFederatedTokenFile({ subject: SUBJECT });
    const { chain } = recordingChain(
      { type: "workload-identity", tenantId: entra.tenantId, clientId: workloadApp.clientId, tokenFilePath },
      entra.credentialOptions(),
    );
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("WorkloadIdentityCredential");
    expectTokenOf(token.token, workloadApp);
  });

  it("from the environment (AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_AUTHORITY_HOST)", async () => {
    const tokenFilePath = await entra.writeFederatedTokenFile({ subject: SUBJECT });
    stubAzureEnv(
      entra.env.workloadIdentity({ clientId: workloadApp.clientId, tokenFilePath }),
      entra.imdsHost,
    );
    // The authority host comes from AZURE_AUTHORITY_HOST here; only TLS trust is passed.
    const { chain } = recordingChain("workload-identity", {
      disableInstanceDiscovery: true,
      tlsOptions: { ca: entra.caPem },
    });
    expectTokenOf((await chain.getToken(SQL_SCOPE)).token.token, workloadApp);
  });

  it("without the variables: unavailable, with the variables to set", async () => {
    const { chain } = recordingChain("workload-identity", entra.credentialOptions());
    const error = (await chain.getToken(SQL_SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(error.failures[0]).toMatchObject({
      source: "WorkloadIdentityCredential",
      kind: "unavailable",
      fix: expect.stringMatching(/AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID/),
    });
  });
});

describe("environment", () => {
  it("AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, authority host from identityOptions", async () => {
    stubAzureEnv(
      {
        AZURE_TENANT_ID: entra.tenantId,
        AZURE_CLIENT_ID: secretApp.clientId,
        AZURE_CLIENT_SECRET: secretApp.clientSecret ?? "",
      },
      entra.imdsHost,
    );
    const { chain } = recordingChain("environment", entra.credentialOptions());
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("EnvironmentCredential");
    expectTokenOf(token.token, secretApp);
  });

  it("AZURE_CLIENT_CERTIFICATE_PATH, authority host from AZURE_AUTHORITY_HOST", async () => {
    stubAzureEnv(
      {
        AZURE_TENANT_ID: entra.tenantId,
        AZURE_CLIENT_ID: certApp.clientId,
        AZURE_CLIENT_CERTIFICATE_PATH: certificatePath,
        AZURE_AUTHORITY_HOST: entra.authorityHost,
      },
      entra.imdsHost,
    );
    const { chain } = recordingChain("environment", {
      disableInstanceDiscovery: true,
      tlsOptions: { ca: entra.caPem },
    });
    expectTokenOf((await chain.getToken(SQL_SCOPE)).token.token, certApp);
  });
});

describe("cli and developer-cli (fake az / azd on PATH)", () => {
  it("cli: the logged-in user's token; no caching in az, so every call runs it", async () => {
    entra.cli.loginAs(alice, { tools: ["az"] });
    const { chain } = recordingChain("cli", entra.credentialOptions());
    const before = entra.counters.forEndpoint("cli").requests;
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("AzureCliCredential");
    expectTokenOf(token.token, alice);
    await chain.getToken(SQL_SCOPE);
    expect(entra.counters.forEndpoint("cli").requests - before).toBe(2);
  });

  it("developer-cli: the azd login's token", async () => {
    entra.cli.loginAs(alice, { tools: ["azd"] });
    const { chain } = recordingChain("developer-cli");
    const { token, source } = await chain.getToken(SQL_SCOPE);
    expect(source).toBe("AzureDeveloperCliCredential");
    expectTokenOf(token.token, alice);
  });

  it("a list: logged out of az, logged in to azd -> azd wins, az's failure says `az login`", async () => {
    entra.cli.loginAs(alice, { tools: ["azd"] });
    const { chain, events } = recordingChain(["cli", "developer-cli"]);
    expect((await chain.getToken(SQL_SCOPE)).source).toBe("AzureDeveloperCliCredential");
    expect(eventLines(events)).toEqual([
      "failed AzureCliCredential unavailable",
      "selected AzureDeveloperCliCredential",
    ]);
  });

  it("nothing logged in: both sources listed with the fix to try", async () => {
    const { chain } = recordingChain(["cli", "developer-cli"]);
    const error = (await chain.getToken(SQL_SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(error.failures.map((f) => [f.source, f.kind, f.fix])).toEqual([
      ["AzureCliCredential", "unavailable", expect.stringMatching(/^Run `az login`/)],
      ["AzureDeveloperCliCredential", "unavailable", "Run `azd auth login`."],
    ]);
    expect(error.message).toMatch(/fix: Run `az login`/);
  });

  it("az not on PATH: 'Install the Azure CLI'", async () => {
    vi.stubEnv("PATH", "/nonexistent-bin");
    const { chain } = recordingChain("cli");
    const error = (await chain.getToken(SQL_SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(error.failures[0]?.fix).toMatch(/^Install the Azure CLI/);
  });
});

describe("no secret leaks", () => {
  it("no token, JWT segment or secret appears in the chains' events or errors", () => {
    expectNothingLeaked();
  });
});
