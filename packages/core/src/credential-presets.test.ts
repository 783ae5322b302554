import {
  AzureCliCredential,
  AzureDeveloperCliCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
} from "@azure/identity";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  buildCredentialSources,
  CLI_PROCESS_TIMEOUT_IN_MS,
  type CredentialSourceEntry,
  validateCredentialSpec,
} from "./credential-presets.js";
import type { CredentialSpec } from "./credential-spec.js";
import { type InvalidOptionError, isInvalidOptionError } from "./errors.js";

// Preset validation and what each preset builds. Credentials are only constructed here (no token
// requests); the integration tests in test/integration/core get real tokens from them.

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const RESOURCE =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders";
const SECRET = "Sx79Q~thisIsAFakeClientSecretValue.0123";
const PEM =
  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

/** Every variable a credential of the default chain reads, cleared for each test. */
const AZURE_ENV = [
  "AZURE_TOKEN_CREDENTIALS",
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PATH",
  "AZURE_USERNAME",
  "AZURE_PASSWORD",
  "AZURE_FEDERATED_TOKEN_FILE",
  "AZURE_AUTHORITY_HOST",
  "IDENTITY_ENDPOINT",
  "IDENTITY_HEADER",
  "MSI_ENDPOINT",
  "IMDS_ENDPOINT",
  "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

beforeEach(() => {
  for (const name of AZURE_ENV) vi.stubEnv(name, undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function invalid(spec: unknown): InvalidOptionError {
  try {
    validateCredentialSpec(spec);
  } catch (error) {
    if (isInvalidOptionError(error)) return error;
    throw error;
  }
  throw new Error("expected an InvalidOptionError");
}

/** Reads a field @azure/identity keeps on the credential (not public API; these tests pin 4.14's shape). */
const field = (entry: CredentialSourceEntry | undefined, name: string): unknown =>
  (entry?.credential as unknown as Record<string, unknown> | undefined)?.[name];

describe("validateCredentialSpec", () => {
  it.each<[string, unknown, string, RegExp]>([
    ["an unknown preset name", "azure-cli", "credential", /^"azure-cli"$/],
    ["a number", 42, "credential", /^42$/],
    ["null", null, "credential", /^null$/],
    ["an empty list", [], "credential", /^an empty list$/],
    ["a nested list", ["cli", ["cli"]], "credential[1]", /^a nested list$/],
    ["an unknown type", { type: "azure-cli" }, "credential.type", /^"azure-cli"$/],
    ["an unknown key", { type: "cli", tenant: TENANT }, "credential.tenant", /^an unknown key$/],
    ["a bad tenant id", { type: "cli", tenantId: "my tenant!" }, "credential.tenantId", /^"my tenant!"$/],
    [
      "a client id that is no GUID",
      { type: "managed-identity", clientId: "orders" },
      "credential.clientId",
      /"orders"/,
    ],
    ["a number for a client id", { type: "managed-identity", clientId: 7 }, "credential.clientId", /^7$/],
    [
      "a bad resource id",
      { type: "managed-identity", resourceId: "/foo" },
      "credential.resourceId",
      /"\/foo"/,
    ],
    [
      "clientId and resourceId together",
      { type: "managed-identity", clientId: CLIENT, resourceId: RESOURCE },
      "credential.resourceId",
      /while clientId is also set/,
    ],
    [
      "an empty token file path",
      { type: "workload-identity", tokenFilePath: " " },
      "credential.tokenFilePath",
      /" "/,
    ],
    [
      "a bad managedIdentityClientId",
      { type: "default", managedIdentityClientId: "x" },
      "credential.managedIdentityClientId",
      /"x"/,
    ],
    [
      "a service principal without tenant",
      { type: "service-principal", clientId: CLIENT },
      "credential.tenantId",
      /missing/,
    ],
    [
      "a service principal without secret or certificate",
      { type: "service-principal", tenantId: TENANT, clientId: CLIENT },
      "credential.clientSecret",
      /missing/,
    ],
    [
      "a secret and a certificate",
      {
        type: "service-principal",
        tenantId: TENANT,
        clientId: CLIENT,
        clientSecret: SECRET,
        certificatePem: PEM,
      },
      "credential.certificatePem",
      /set together with clientSecret/,
    ],
    [
      "an empty secret",
      { type: "service-principal", tenantId: TENANT, clientId: CLIENT, clientSecret: "" },
      "credential.clientSecret",
      /^\[redacted\]$/,
    ],
    [
      "a PEM without a private key",
      { type: "service-principal", tenantId: TENANT, clientId: CLIENT, certificatePem: `${SECRET}-no-pem` },
      "credential.certificatePem",
      /^\[redacted\]$/,
    ],
    ["in a list, the item's path", ["cli", { type: "cli", tenantId: "" }], "credential[1].tenantId", /""/],
  ])("%s", (_label, spec, option, value) => {
    const error = invalid(spec);
    expect(error.option).toBe(option);
    expect(error.value).toMatch(value);
    expect(error.message).toContain(`option "${option}"`);
    expect(error.message).toContain("expected");
  });

  it("never prints a secret, a PEM or the value of an unknown key", () => {
    const messages = [
      invalid({ type: "service-principal", tenantId: TENANT, clientId: CLIENT, clientSecret: 12345678 }),
      invalid({
        type: "service-principal",
        tenantId: TENANT,
        clientId: CLIENT,
        certificatePem: `x${SECRET}`,
      }),
      invalid({ type: "cli", password: SECRET }),
      invalid({
        type: "service-principal",
        tenantId: TENANT,
        clientId: CLIENT,
        clientSecret: SECRET,
        certificatePem: PEM,
      }),
    ].map((e) => `${e.message} ${e.value}`);
    for (const message of messages) {
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain("MIIE");
      expect(message).not.toContain("12345678");
    }
  });

  it("accepts every preset, names and objects, TokenCredentials and lists", () => {
    const specs: CredentialSpec[] = [
      "default",
      ["environment", "workload-identity", "managed-identity", "cli", "developer-cli"],
      { type: "default", managedIdentityClientId: CLIENT, tenantId: "contoso.onmicrosoft.com" },
      { type: "workload-identity", tenantId: TENANT, clientId: CLIENT, tokenFilePath: "/var/run/token" },
      { type: "managed-identity", resourceId: RESOURCE },
      { type: "managed-identity", clientId: CLIENT, resourceId: undefined },
      { type: "service-principal", tenantId: TENANT, clientId: CLIENT, certificatePath: "/etc/sp.pem" },
      [new AzureCliCredential(), { getToken: async () => null }],
    ];
    for (const spec of specs) expect(() => validateCredentialSpec(spec)).not.toThrow();
  });
});

describe("buildCredentialSources: presets", () => {
  it("builds each preset's credential with its display name", () => {
    const sources = buildCredentialSources([
      "environment",
      { type: "workload-identity", tenantId: TENANT, clientId: CLIENT, tokenFilePath: "/tmp/token" },
      "managed-identity",
      "cli",
      "developer-cli",
      { type: "service-principal", tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET },
      { type: "service-principal", tenantId: TENANT, clientId: CLIENT, certificatePem: PEM },
    ]);
    const expected = [
      ["EnvironmentCredential", EnvironmentCredential],
      ["WorkloadIdentityCredential", WorkloadIdentityCredential],
      ["ManagedIdentityCredential", ManagedIdentityCredential],
      ["AzureCliCredential", AzureCliCredential],
      ["AzureDeveloperCliCredential", AzureDeveloperCliCredential],
      ["ClientSecretCredential", ClientSecretCredential],
      ["ClientCertificateCredential", ClientCertificateCredential],
    ] as const;
    expect(sources.map((s) => s.name)).toEqual(expected.map(([name]) => name));
    sources.forEach((source, i) => {
      expect(source.credential).toBeInstanceOf(expected[i]?.[1]);
    });
    expect(sources[5]?.secrets).toEqual([SECRET]);
  });

  it("managed identity: system-assigned, by client id, or by resource id", () => {
    const [system, byClient, byResource] = buildCredentialSources([
      "managed-identity",
      { type: "managed-identity", clientId: CLIENT },
      { type: "managed-identity", resourceId: RESOURCE },
    ]);
    expect([field(system, "clientId"), field(system, "resourceId")]).toEqual([undefined, undefined]);
    expect(field(byClient, "clientId")).toBe(CLIENT);
    expect(field(byResource, "resourceId")).toBe(RESOURCE);
    // The explicit preset never probes IMDS (like a standalone ManagedIdentityCredential).
    expect(field(system, "sendProbeRequest")).toBe(false);
  });

  it("the CLIs get a process timeout (none by default in @azure/identity) and the tenant", () => {
    const [cli, azd] = buildCredentialSources([{ type: "cli", tenantId: TENANT }, "developer-cli"]);
    expect(field(cli, "timeout")).toBe(CLI_PROCESS_TIMEOUT_IN_MS);
    expect(field(cli, "tenantId")).toBe(TENANT);
    expect(field(azd, "timeout")).toBe(CLI_PROCESS_TIMEOUT_IN_MS);
    const [custom] = buildCredentialSources("cli", { processTimeoutInMs: 2500 } as never);
    expect(field(custom, "timeout")).toBe(2500);
  });

  it("a credential whose constructor throws becomes an unavailable source with the reason", async () => {
    // No AZURE_* variables: WorkloadIdentityCredential's constructor throws.
    const [workload] = buildCredentialSources("workload-identity");
    expect(workload?.name).toBe("WorkloadIdentityCredential");
    const error = await workload?.credential
      .getToken("https://database.windows.net/.default")
      .catch((e) => e);
    expect((error as Error).name).toBe("CredentialUnavailableError");
    expect((error as Error).message).toMatch(/clientId is a required parameter/);
  });
});

describe("buildCredentialSources: the default chain", () => {
  const names = (spec: CredentialSpec = "default") => buildCredentialSources(spec).map((s) => s.name);

  it("mirrors DefaultAzureCredential's order (without the plugin-only BrokerCredential)", () => {
    expect(names()).toEqual([
      "EnvironmentCredential",
      "WorkloadIdentityCredential",
      "ManagedIdentityCredential",
      "VisualStudioCodeCredential",
      "AzureCliCredential",
      "AzurePowerShellCredential",
      "AzureDeveloperCliCredential",
    ]);
  });

  it("honours AZURE_TOKEN_CREDENTIALS: dev, prod, one credential name (any case), and rejects others", () => {
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "dev");
    expect(names()).toEqual([
      "VisualStudioCodeCredential",
      "AzureCliCredential",
      "AzurePowerShellCredential",
      "AzureDeveloperCliCredential",
    ]);
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", " Prod ");
    expect(names()).toEqual([
      "EnvironmentCredential",
      "WorkloadIdentityCredential",
      "ManagedIdentityCredential",
    ]);
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "azureclicredential");
    expect(names()).toEqual(["AzureCliCredential"]);
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "laptop");
    expect(() => names()).toThrow(/AZURE_TOKEN_CREDENTIALS.*"laptop".*"dev", "prod"/);
    // Only "default" reads it.
    expect(names("cli")).toEqual(["AzureCliCredential"]);
  });

  it("its managed identity probes IMDS first and retries like DefaultAzureCredential's; not when named alone", () => {
    // `sendProbeRequest` is an internal option of ManagedIdentityCredential: if this fails after an
    // @azure/identity upgrade, re-read defaultAzureCredentialFunctions.js and credential-presets.ts.
    const mi = buildCredentialSources("default")[2];
    expect(mi?.credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(field(mi, "sendProbeRequest")).toBe(true);
    expect(field(mi, "msiRetryConfig")).toMatchObject({ maxRetries: 5, startDelayInMs: 800 });
    vi.stubEnv("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential");
    const alone = buildCredentialSources("default")[0];
    expect(field(alone, "sendProbeRequest")).toBe(false);
  });

  it("a user-assigned identity from managedIdentityClientId, else AZURE_CLIENT_ID", () => {
    const fromSetting = buildCredentialSources({ type: "default", managedIdentityClientId: CLIENT })[2];
    expect(field(fromSetting, "clientId")).toBe(CLIENT);
    vi.stubEnv("AZURE_CLIENT_ID", "11111111-2222-4333-8444-555555555555");
    const fromEnv = buildCredentialSources("default")[2];
    expect(field(fromEnv, "clientId")).toBe("11111111-2222-4333-8444-555555555555");
  });

  it("tenantId reaches the developer credentials", () => {
    const sources = buildCredentialSources({ type: "default", tenantId: TENANT });
    const cli = sources.find((s) => s.name === "AzureCliCredential");
    expect(field(cli, "tenantId")).toBe(TENANT);
    expect(field(cli, "timeout")).toBe(CLI_PROCESS_TIMEOUT_IN_MS);
  });

  it("a repeated source in a list gets its list index", () => {
    expect(names(["cli", "default"])).toContain("AzureCliCredential[1]");
  });
});
