import type { TokenCredential } from "@azure/core-auth";

// How a user names where tokens come from: a preset name, a preset with settings, any
// TokenCredential, or an ordered list of those (tried in order; the winner is remembered).

/** The preset names, in the order messages list them. */
export const CREDENTIAL_PRESET_NAMES = Object.freeze([
  "default",
  "environment",
  "workload-identity",
  "managed-identity",
  "cli",
  "developer-cli",
  "service-principal",
] as const);

/** Preset names. "default" is the DefaultAzureCredential chain with the retry-without-failed-source rule. */
export type CredentialPresetName = (typeof CREDENTIAL_PRESET_NAMES)[number];

/** A preset with its settings. Every field is optional where the environment can supply it. */
export type CredentialPreset =
  | { type: "default"; managedIdentityClientId?: string; tenantId?: string }
  | { type: "environment" }
  | { type: "workload-identity"; tenantId?: string; clientId?: string; tokenFilePath?: string }
  /** System-assigned when neither id is given; a user-assigned identity by client id OR resource id. */
  | { type: "managed-identity"; clientId?: string; resourceId?: string }
  | { type: "cli"; tenantId?: string }
  | { type: "developer-cli"; tenantId?: string }
  | {
      type: "service-principal";
      tenantId: string;
      clientId: string;
      /** Exactly one of clientSecret, certificatePath, certificatePem. */
      clientSecret?: string;
      certificatePath?: string;
      certificatePem?: string;
    };

export type CredentialSource = CredentialPresetName | CredentialPreset | TokenCredential;

/** Whether `value` is a TokenCredential: an object with a getToken method. */
export const isTokenCredential = (value: unknown): value is TokenCredential =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { getToken?: unknown }).getToken === "function";

/** What the `credential` option accepts. */
export type CredentialSpec = CredentialSource | readonly CredentialSource[];
