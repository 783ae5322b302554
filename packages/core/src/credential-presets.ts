import type { TokenCredential } from "@azure/core-auth";
import {
  AzureCliCredential,
  AzureDeveloperCliCredential,
  AzurePowerShellCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  CredentialUnavailableError,
  EnvironmentCredential,
  ManagedIdentityCredential,
  type ManagedIdentityCredentialClientIdOptions,
  type TokenCredentialOptions,
  VisualStudioCodeCredential,
  WorkloadIdentityCredential,
} from "@azure/identity";
import {
  CREDENTIAL_PRESET_NAMES,
  type CredentialPreset,
  type CredentialPresetName,
  type CredentialSpec,
  isTokenCredential,
} from "./credential-spec.js";
import { errorName } from "./error-graph.js";
import { InvalidOptionError } from "./errors.js";
import { printable, REDACTED } from "./redact.js";
import { TransportObserver, withObserver } from "./transport-observer.js";

// Turns the `credential` option into an ordered list of named sources: validates preset names and
// objects (unknown keys, bad values), builds the @azure/identity credential of each preset with the
// caller's identityOptions, and expands "default" into DefaultAzureCredential's own source order
// (@azure/identity 4.14 `defaultAzureCredential.js` + `defaultAzureCredentialFunctions.js`), so the
// chain can skip a failed source and remember the winner, which DefaultAzureCredential cannot.

export type IdentityOptions = TokenCredentialOptions & { disableInstanceDiscovery?: boolean };

/** One source of the chain. */
export interface CredentialSourceEntry {
  /** Stable display name, unique in the chain: "ManagedIdentityCredential", "MyCredential", "custom[2]". */
  readonly name: string;
  /** Class name the fixes are keyed by ("custom" for anonymous credentials). */
  readonly type: string;
  readonly credential: TokenCredential;
  /** Secrets this source was given, redacted from any message about it. */
  readonly secrets: readonly string[];
  /**
   * The failed HTTP requests of the source's current call (credentials built from presets only): what
   * tells an untrusted TLS certificate from a failed instance discovery, which msal reports alike.
   */
  readonly transport?: TransportObserver;
}

/**
 * `processTimeoutInMs` given to the CLI credentials (az, azd, pwsh) unless identityOptions sets one:
 * @azure/identity has no default, so a hung `az` would hang every login. The real `az` takes ~1 s.
 */
export const CLI_PROCESS_TIMEOUT_IN_MS = 10_000;

/** DefaultAzureCredential's managed-identity retries inside its chain (createDefaultManagedIdentityCredential). */
const DEFAULT_CHAIN_MI_RETRY_OPTIONS = { maxRetries: 5, retryDelayInMs: 800 } as const;

/** The names AZURE_TOKEN_CREDENTIALS accepts besides "dev" and "prod" (DefaultAzureCredential 4.14). */
const DEFAULT_CHAIN_TYPES = [
  "EnvironmentCredential",
  "WorkloadIdentityCredential",
  "ManagedIdentityCredential",
  "VisualStudioCodeCredential",
  "AzureCliCredential",
  "AzurePowerShellCredential",
  "AzureDeveloperCliCredential",
] as const;
type DefaultChainType = (typeof DEFAULT_CHAIN_TYPES)[number];
const PROD_TYPES: readonly DefaultChainType[] = DEFAULT_CHAIN_TYPES.slice(0, 3);
const DEV_TYPES: readonly DefaultChainType[] = DEFAULT_CHAIN_TYPES.slice(3);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What @azure/identity's checkTenantId accepts: a GUID or a domain name. */
const TENANT = /^[0-9a-zA-Z.-]+$/;
const MI_RESOURCE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;

interface FieldRule {
  test: (value: string) => boolean;
  expected: string;
  secret?: boolean;
}
const nonEmpty = (expected = "a non-empty string"): FieldRule => ({
  test: (v) => v.trim() !== "",
  expected,
});
const FIELDS = {
  tenantId: { test: (v: string) => TENANT.test(v), expected: "a tenant id (GUID or domain name)" },
  clientId: { test: (v: string) => GUID.test(v), expected: "a client id (GUID)" },
  resourceId: {
    test: (v: string) => MI_RESOURCE_ID.test(v),
    expected:
      "a managed identity resource id (/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)",
  },
  tokenFilePath: nonEmpty("a file path"),
  certificatePath: nonEmpty("a path to a PEM file with the certificate and its private key"),
  clientSecret: { ...nonEmpty("a non-empty client secret"), secret: true },
  certificatePem: {
    test: (v: string) => v.includes("-----BEGIN") && v.includes("PRIVATE KEY-----"),
    expected: "PEM text holding the certificate and its private key",
    secret: true,
  },
} satisfies Record<string, FieldRule>;

/** The keys of each preset object (besides `type`) and the rule of each. */
const PRESET_FIELDS: Record<CredentialPresetName, Record<string, FieldRule>> = {
  default: { managedIdentityClientId: FIELDS.clientId, tenantId: FIELDS.tenantId },
  environment: {},
  "workload-identity": {
    tenantId: FIELDS.tenantId,
    clientId: FIELDS.clientId,
    tokenFilePath: FIELDS.tokenFilePath,
  },
  "managed-identity": { clientId: FIELDS.clientId, resourceId: FIELDS.resourceId },
  cli: { tenantId: FIELDS.tenantId },
  "developer-cli": { tenantId: FIELDS.tenantId },
  "service-principal": {
    tenantId: FIELDS.tenantId,
    clientId: FIELDS.clientId,
    clientSecret: FIELDS.clientSecret,
    certificatePath: FIELDS.certificatePath,
    certificatePem: FIELDS.certificatePem,
  },
};

const SP_CREDENTIALS = ["clientSecret", "certificatePath", "certificatePem"] as const;

// ---- validation ------------------------------------------------------------------------------------

/** An option value for InvalidOptionError: redact.ts's printable form, or "[redacted]" for a secret. */
const shown = (value: unknown, secret = false): string =>
  secret && value !== undefined ? REDACTED : printable(value);

const isPresetName = (value: unknown): value is CredentialPresetName =>
  typeof value === "string" && (CREDENTIAL_PRESET_NAMES as readonly string[]).includes(value);

const PRESET_LIST = CREDENTIAL_PRESET_NAMES.map((name) => `"${name}"`).join(", ");
const SPEC_EXPECTED =
  `a preset name (${PRESET_LIST}), a preset object with one of these as "type", ` +
  "a TokenCredential (an object with a getToken method), or a non-empty list of these";

/**
 * The one validator of the `credential` option (createTokenSource and createCredentialChain both
 * call it): throws InvalidOptionError naming the option path (`credential[1].clientId`), a printable
 * value (secrets shown as "[redacted]") and the expected form.
 */
export function validateCredentialSpec(spec: unknown, option = "credential"): asserts spec is CredentialSpec {
  if (Array.isArray(spec)) {
    if (spec.length === 0) throw new InvalidOptionError(option, "an empty list", SPEC_EXPECTED);
    spec.forEach((item, index) => {
      if (Array.isArray(item)) {
        throw new InvalidOptionError(`${option}[${index}]`, "a nested list", "a preset or a TokenCredential");
      }
      validateCredentialSpec(item, `${option}[${index}]`);
    });
    return;
  }
  if (isPresetName(spec) || isTokenCredential(spec)) return;
  if (typeof spec === "object" && spec !== null && "type" in spec) {
    validatePreset(spec as Record<string, unknown>, option);
    return;
  }
  throw new InvalidOptionError(option, shown(spec), SPEC_EXPECTED);
}

function validatePreset(preset: Record<string, unknown>, option: string): void {
  const type = preset.type;
  if (!isPresetName(type)) {
    throw new InvalidOptionError(`${option}.type`, shown(type), `one of ${PRESET_LIST}`);
  }
  const fields = PRESET_FIELDS[type];
  for (const [key, value] of Object.entries(preset)) {
    if (key === "type") continue;
    const rule = fields[key];
    if (!rule) {
      // Never print the value of an unknown key: it may be a misspelt secret.
      const known = ["type", ...Object.keys(fields)].join(", ");
      throw new InvalidOptionError(
        `${option}.${key}`,
        "an unknown key",
        `one of the "${type}" preset's keys (${known})`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== "string" || !rule.test(value)) {
      throw new InvalidOptionError(`${option}.${key}`, shown(value, rule.secret), rule.expected);
    }
  }
  if (type === "managed-identity" && preset.clientId !== undefined && preset.resourceId !== undefined) {
    throw new InvalidOptionError(
      `${option}.resourceId`,
      `${shown(preset.resourceId)} while clientId is also set`,
      "either clientId or resourceId (a user-assigned identity is named one way), not both",
    );
  }
  if (type === "service-principal") {
    for (const key of ["tenantId", "clientId"] as const) {
      if (preset[key] === undefined) {
        throw new InvalidOptionError(
          `${option}.${key}`,
          "missing",
          `${fields[key]?.expected ?? "a value"} (required)`,
        );
      }
    }
    const given = SP_CREDENTIALS.filter((key) => preset[key] !== undefined);
    const expected = "exactly one of clientSecret, certificatePath, certificatePem";
    if (given.length === 0) throw new InvalidOptionError(`${option}.clientSecret`, "missing", expected);
    const [first, second] = given;
    if (second !== undefined) {
      throw new InvalidOptionError(`${option}.${second}`, `set together with ${first}`, expected);
    }
  }
}

// ---- building -------------------------------------------------------------------------------------------

/**
 * The ordered sources for a `credential` option checked by {@link validateCredentialSpec}.
 * Credentials read the environment now, as DefaultAzureCredential does; a credential whose
 * constructor throws (e.g. workload identity without its variables) becomes a source that reports
 * that reason as unavailable.
 */
export function buildCredentialSources(
  spec: CredentialSpec,
  identityOptions: IdentityOptions = {},
): CredentialSourceEntry[] {
  const items = Array.isArray(spec) ? (spec as readonly unknown[]) : [spec];
  const list = Array.isArray(spec);
  const entries: CredentialSourceEntry[] = [];
  const taken = new Set<string>();
  items.forEach((item, index) => {
    for (const built of buildOne(item as CredentialSpec, identityOptions, list ? index : 0)) {
      // Names stay unique (events and failures are keyed by them): a repeat gets its list index.
      const name = taken.has(built.name) ? `${built.name}[${index}]` : built.name;
      taken.add(name);
      entries.push({ ...built, name });
    }
  });
  return entries;
}

function buildOne(
  item: CredentialSpec,
  identityOptions: IdentityOptions,
  index: number,
): CredentialSourceEntry[] {
  if (isTokenCredential(item)) {
    const ctor = (item as { constructor?: { name?: unknown } }).constructor?.name;
    const named = typeof ctor === "string" && ctor !== "" && ctor !== "Object" && ctor !== "Function";
    return [
      {
        name: named ? ctor : `custom[${index}]`,
        type: named ? ctor : "custom",
        credential: item,
        secrets: [],
      },
    ];
  }
  const preset: CredentialPreset =
    typeof item === "string" ? ({ type: item } as CredentialPreset) : (item as CredentialPreset);
  if (preset.type === "default") return defaultChainSources(preset, identityOptions);
  const transport = new TransportObserver();
  return [{ ...buildPreset(preset, withObserver(identityOptions, transport)), transport }];
}

function buildPreset(preset: Exclude<CredentialPreset, { type: "default" }>, options: IdentityOptions) {
  switch (preset.type) {
    case "environment":
      return source("EnvironmentCredential", () => new EnvironmentCredential({ ...options }));
    case "workload-identity":
      return source(
        "WorkloadIdentityCredential",
        () =>
          new WorkloadIdentityCredential({
            ...options,
            ...definedOnly({
              tenantId: preset.tenantId,
              clientId: preset.clientId,
              tokenFilePath: preset.tokenFilePath,
            }),
          }),
      );
    case "managed-identity":
      return source("ManagedIdentityCredential", (): TokenCredential => {
        const { resourceId, clientId } = preset;
        return resourceId !== undefined
          ? new ManagedIdentityCredential({ ...options, resourceId })
          : new ManagedIdentityCredential({ ...options, ...definedOnly({ clientId }) });
      });
    case "cli":
      return source("AzureCliCredential", () => new AzureCliCredential(cliOptions(options, preset.tenantId)));
    case "developer-cli":
      return source(
        "AzureDeveloperCliCredential",
        () => new AzureDeveloperCliCredential(cliOptions(options, preset.tenantId)),
      );
    case "service-principal": {
      const { tenantId, clientId, clientSecret, certificatePath, certificatePem } = preset;
      if (clientSecret !== undefined) {
        return source(
          "ClientSecretCredential",
          () => new ClientSecretCredential(tenantId, clientId, clientSecret, { ...options }),
          [clientSecret],
        );
      }
      return source("ClientCertificateCredential", () =>
        certificatePem !== undefined
          ? new ClientCertificateCredential(
              tenantId,
              clientId,
              { certificate: certificatePem },
              { ...options },
            )
          : new ClientCertificateCredential(
              tenantId,
              clientId,
              { certificatePath: certificatePath ?? "" },
              {
                ...options,
              },
            ),
      );
    }
  }
}

/**
 * "default": DefaultAzureCredential's sources in its order (Environment, WorkloadIdentity,
 * ManagedIdentity, VisualStudioCode, AzureCli, AzurePowerShell, AzureDeveloperCli; its last,
 * BrokerCredential, is not exported by @azure/identity and needs a plugin, so it is left out),
 * narrowed by AZURE_TOKEN_CREDENTIALS ("dev", "prod" or one credential name) exactly as it does.
 */
export function defaultChainSources(
  settings: { managedIdentityClientId?: string; tenantId?: string },
  identityOptions: IdentityOptions,
): CredentialSourceEntry[] {
  const raw = process.env.AZURE_TOKEN_CREDENTIALS?.trim();
  let types: readonly DefaultChainType[] = [...PROD_TYPES, ...DEV_TYPES];
  if (raw) {
    const value = raw.toLowerCase();
    const single = DEFAULT_CHAIN_TYPES.find((t) => t.toLowerCase() === value);
    if (value === "dev") types = DEV_TYPES;
    else if (value === "prod") types = PROD_TYPES;
    else if (single) types = [single];
    else {
      throw new InvalidOptionError(
        "AZURE_TOKEN_CREDENTIALS (environment variable)",
        shown(raw),
        `"dev", "prod" or one of ${DEFAULT_CHAIN_TYPES.join(", ")}`,
      );
    }
  }
  // As createDefault*Credential: the settings first, then the environment.
  const managedIdentityClientId = settings.managedIdentityClientId ?? process.env.AZURE_CLIENT_ID;
  const workloadFile = process.env.AZURE_FEDERATED_TOKEN_FILE;
  const tenantId = settings.tenantId ?? process.env.AZURE_TENANT_ID;
  const onlyManagedIdentity = types.length === 1 && types[0] === "ManagedIdentityCredential";
  const factories: Record<DefaultChainType, (options: IdentityOptions) => TokenCredential> = {
    EnvironmentCredential: (options) => new EnvironmentCredential({ ...options }),
    WorkloadIdentityCredential: (options) =>
      workloadFile && managedIdentityClientId
        ? new WorkloadIdentityCredential({
            ...options,
            ...definedOnly({ tenantId }),
            clientId: managedIdentityClientId,
            tokenFilePath: workloadFile,
          })
        : new WorkloadIdentityCredential({ ...options, ...definedOnly({ tenantId }) }),
    ManagedIdentityCredential: (options) => {
      // DefaultAzureCredential gives its managed identity 5 retries from 800 ms and, in the chain
      // (not when AZURE_TOKEN_CREDENTIALS names it alone), `sendProbeRequest: true`: a 1 s,
      // no-retry probe of IMDS first, so a laptop without IMDS fails fast instead of retrying for
      // 20 s. `sendProbeRequest` is not in the public option types (InternalManagedIdentityCredentialOptions);
      // credential-presets.test.ts fails if the credential stops reading it.
      const base: ManagedIdentityCredentialClientIdOptions & { sendProbeRequest: boolean } = {
        ...options,
        retryOptions: options.retryOptions ?? { ...DEFAULT_CHAIN_MI_RETRY_OPTIONS },
        sendProbeRequest: !onlyManagedIdentity,
      };
      if (workloadFile && managedIdentityClientId) {
        return new ManagedIdentityCredential(managedIdentityClientId, {
          ...base,
          ...definedOnly({ tenantId }),
        });
      }
      return new ManagedIdentityCredential({
        ...base,
        ...definedOnly({ clientId: managedIdentityClientId }),
      });
    },
    VisualStudioCodeCredential: (options) =>
      new VisualStudioCodeCredential({ ...options, ...definedOnly({ tenantId: settings.tenantId }) }),
    AzureCliCredential: (options) => new AzureCliCredential(cliOptions(options, settings.tenantId)),
    AzurePowerShellCredential: (options) =>
      new AzurePowerShellCredential(cliOptions(options, settings.tenantId)),
    AzureDeveloperCliCredential: (options) =>
      new AzureDeveloperCliCredential(cliOptions(options, settings.tenantId)),
  };
  return types.map((type) => {
    const transport = new TransportObserver();
    return { ...source(type, () => factories[type](withObserver(identityOptions, transport))), transport };
  });
}

function cliOptions(options: IdentityOptions, tenantId: string | undefined) {
  const given = (options as { processTimeoutInMs?: unknown }).processTimeoutInMs;
  return {
    ...options,
    ...definedOnly({ tenantId }),
    processTimeoutInMs: typeof given === "number" ? given : CLI_PROCESS_TIMEOUT_IN_MS,
  };
}

function source(type: string, create: () => TokenCredential, secrets: string[] = []): CredentialSourceEntry {
  let credential: TokenCredential;
  try {
    credential = create();
  } catch (error) {
    credential = new UnavailableCredential(error);
  }
  return { name: type, type, credential, secrets };
}

/** Stands in for a credential whose constructor threw (as DefaultAzureCredential's UnavailableDefaultCredential). */
class UnavailableCredential implements TokenCredential {
  readonly #error: unknown;
  constructor(error: unknown) {
    this.#error = error;
  }
  getToken(): Promise<never> {
    const error = this.#error;
    if (errorName(error) === "CredentialUnavailableError") return Promise.reject(error);
    const message = error instanceof Error ? error.message : String(error);
    return Promise.reject(new CredentialUnavailableError(message, { cause: error }));
  }
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
