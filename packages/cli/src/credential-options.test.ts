import { describe, expect, it } from "vitest";
import { credentialOptions } from "./credential-options.js";

// --credential with the environment: presets pass through; service-principal reads AZURE_*; a private
// authority host turns instance discovery off.

describe("credentialOptions", () => {
  it("one preset, a chain", () => {
    expect(credentialOptions(["cli"], {})).toEqual({ ok: true, options: { credential: "cli" } });
    expect(credentialOptions(["managed-identity", "cli"], {})).toEqual({
      ok: true,
      options: { credential: ["managed-identity", "cli"] },
    });
  });

  it("service-principal: a secret, else a certificate path; what is missing", () => {
    const env = { AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "s" };
    expect(credentialOptions(["service-principal"], env)).toEqual({
      ok: true,
      options: { credential: { type: "service-principal", tenantId: "t", clientId: "c", clientSecret: "s" } },
    });
    const certificate = credentialOptions(["service-principal"], {
      AZURE_TENANT_ID: "t",
      AZURE_CLIENT_ID: "c",
      AZURE_CLIENT_CERTIFICATE_PATH: "/k.pem",
    });
    expect(certificate).toMatchObject({ ok: true, options: { credential: { certificatePath: "/k.pem" } } });
    expect(credentialOptions(["cli", "service-principal"], { AZURE_CLIENT_ID: "c" })).toEqual({
      ok: false,
      missing: {
        source: "service-principal",
        missing: ["AZURE_TENANT_ID", "AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)"],
      },
    });
  });

  it("instance discovery off for an authority that is not Microsoft's", () => {
    const local = credentialOptions(["cli"], { AZURE_AUTHORITY_HOST: "https://127.0.0.1:8443" });
    expect(local).toMatchObject({
      ok: true,
      options: { identityOptions: { disableInstanceDiscovery: true } },
    });
    const gov = credentialOptions(["cli"], { AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us" });
    expect(gov).toEqual({ ok: true, options: { credential: "cli" } });
  });
});
