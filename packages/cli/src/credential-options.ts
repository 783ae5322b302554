import type { CredentialSource, TokenSourceOptions } from "@entra-sql/core";

// The token source options a command line names: `--credential` presets (a comma-separated list is a
// chain, tried in order), with what the environment supplies. `service-principal` reads
// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH), as
// EnvironmentCredential does. Preset names are validated by core (its InvalidOptionError names the
// valid ones); this file only fills in what a preset object needs.

/** Microsoft Entra ID's own authority hosts (@azure/identity `AzureAuthorityHosts`). */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
  "login.partner.microsoftonline.cn",
]);

/** `service-principal` was asked for but the environment lacks what it needs. */
export interface MissingSettings {
  readonly source: string;
  readonly missing: readonly string[];
}

export type CredentialOptions =
  | { ok: true; options: Pick<TokenSourceOptions, "credential" | "identityOptions"> }
  | { ok: false; missing: MissingSettings };

export function credentialOptions(presets: readonly string[], env: NodeJS.ProcessEnv): CredentialOptions {
  const sources: CredentialSource[] = [];
  for (const preset of presets) {
    if (preset !== "service-principal") {
      sources.push(preset as CredentialSource);
      continue;
    }
    const { AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH } = env;
    const missing = [
      ...(AZURE_TENANT_ID ? [] : ["AZURE_TENANT_ID"]),
      ...(AZURE_CLIENT_ID ? [] : ["AZURE_CLIENT_ID"]),
      ...(AZURE_CLIENT_SECRET || AZURE_CLIENT_CERTIFICATE_PATH
        ? []
        : ["AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)"]),
    ];
    if (missing.length > 0 || !AZURE_TENANT_ID || !AZURE_CLIENT_ID) {
      return { ok: false, missing: { source: "service-principal", missing } };
    }
    sources.push(
      AZURE_CLIENT_SECRET
        ? {
            type: "service-principal",
            tenantId: AZURE_TENANT_ID,
            clientId: AZURE_CLIENT_ID,
            clientSecret: AZURE_CLIENT_SECRET,
          }
        : {
            type: "service-principal",
            tenantId: AZURE_TENANT_ID,
            clientId: AZURE_CLIENT_ID,
            certificatePath: AZURE_CLIENT_CERTIFICATE_PATH ?? "",
          },
    );
  }
  const credential = sources.length === 1 ? (sources[0] as CredentialSource) : sources;
  return {
    ok: true,
    options: {
      credential,
      // A private authority (a local Entra ID stand-in, a sovereign proxy) is not one msal can look up
      // in Microsoft's instance discovery; asking fails after ~5 s. Microsoft's own hosts keep it.
      ...(isPrivateAuthority(env.AZURE_AUTHORITY_HOST) && {
        identityOptions: { disableInstanceDiscovery: true },
      }),
    },
  };
}

function isPrivateAuthority(authorityHost: string | undefined): boolean {
  if (!authorityHost) return false;
  try {
    return !MICROSOFT_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    return false;
  }
}
