import path from "node:path";
import { inspect } from "node:util";
import {
  type Directory,
  identityKey,
  type PrincipalRecord,
  type PrincipalRef,
  type RegisteredPrincipal,
} from "./directory.js";
import { aadsts, EntraError, entraErrorBody } from "./entra-errors.js";
import { constantTimeEquals, sha256 } from "./ids.js";
import type { HandlerResult, Identity, InjectedFault, RequestContext, Route } from "./request-pipeline.js";
import { type ResourceRegistry, resourceFromScope } from "./resources.js";
import type { LocalEntraSettings } from "./settings.js";
import { AZURE_CLI_CLIENT_ID, mintAccessToken, type SigningKeySet, tokenSubject } from "./token-minter.js";

// The fake Azure CLI (`az`) and Azure Developer CLI (`azd`): login state and command handling. The
// executables themselves are thin forwarders (fake-cli-scripts.ts) that call this over loopback.
// Outputs and error texts are the real CLIs' where @azure/identity looks at them:
// - `az account get-access-token --output json --resource R [--tenant T]` -> { accessToken,
//   expiresOn ("YYYY-MM-DD HH:MM:SS.ffffff", local time), expires_on (epoch s), subscription,
//   tenant, tokenType }; logged out: stderr "ERROR: Please run 'az login' to setup account.", exit 1.
// - `azd auth token --output json --no-prompt --scope S [--tenant-id T]` -> { token, expiresOn
//   (RFC 3339) }; logged out: "ERROR: not logged in, run `azd auth login` to login", exit 1.

export type CliTool = "az" | "azd";

export interface CliLoginOptions {
  /** Default: the principal's tenant. */
  tenantId?: string;
  /** Which CLIs are logged in. Default both. */
  tools?: readonly CliTool[];
  /** For an app: the secret `az login --service-principal` would be given. Default: the app's registered secret. */
  clientSecret?: string;
}

interface CliSession {
  objectId: string;
  tenantId: string;
  subscriptionId: string;
  /** SP logins: digest of the secret used, checked again on every token (it may have been reset). */
  secretDigest?: Buffer;
}

export interface FakeCliDeps {
  directory: Directory;
  keys: SigningKeySet;
  settings: LocalEntraSettings;
  resources: ResourceRegistry;
  authorityHost: string;
}

const LOGGED_OUT: Record<CliTool, string> = {
  az: "ERROR: Please run 'az login' to setup account.",
  azd: "ERROR: not logged in, run `azd auth login` to login",
};

/** Short flags and their long names. */
const FLAG_ALIASES: Readonly<Record<string, string>> = { "-o": "--output", "-t": "--tenant" };

/** Flags that take a value (everything else starting with `-` is a switch). */
const VALUE_FLAGS = new Set([
  "--output",
  "-o",
  "--resource",
  "--scope",
  "--tenant",
  "-t",
  "--tenant-id",
  "--subscription",
  "--query",
  "--claims",
  "--resource-type",
]);

export class FakeCli {
  /** Directory holding the executable `az` and `azd`. */
  readonly binDir: string;
  readonly #deps: FakeCliDeps;
  readonly #key: string;
  readonly #sessions = new Map<CliTool, CliSession>();

  constructor(binDir: string, key: string, deps: FakeCliDeps) {
    this.binDir = binDir;
    this.#key = key;
    this.#deps = deps;
  }

  /** `binDir` in front of `basePath` (default: this process's PATH), absolute entries only. */
  pathWithCli(basePath: string = process.env.PATH ?? ""): string {
    const rest = basePath
      .split(path.delimiter)
      .filter((entry) => path.isAbsolute(entry) && entry !== this.binDir);
    return [this.binDir, ...rest].join(path.delimiter);
  }

  /**
   * `az login` / `azd auth login` as a user, or as a service principal with its secret (`az login
   * --service-principal`), or as a managed identity (`az login --identity`).
   */
  loginAs(principal: PrincipalRef | RegisteredPrincipal, options: CliLoginOptions = {}): void {
    const record = this.#deps.directory.resolve(principal);
    const tenantId = (options.tenantId ?? record.tenantId).toLowerCase();
    if (record.tenantId !== tenantId) {
      throw new Error(`cli.loginAs: ${identityKey(record)} does not belong to tenant ${tenantId}`);
    }
    const session: CliSession = {
      objectId: record.objectId,
      tenantId,
      subscriptionId: this.#deps.directory.subscriptionId,
    };
    if (record.kind === "app") {
      const secret = options.clientSecret ?? secretOf(principal);
      if (secret === undefined || !this.#deps.directory.verifyClientSecret(record, secret)) {
        throw new Error(
          `cli.loginAs: app ${record.clientId} needs its client secret (as az login --service-principal)`,
        );
      }
      session.secretDigest = sha256(secret);
    }
    for (const tool of options.tools ?? ["az", "azd"]) this.#sessions.set(tool, { ...session });
  }

  logout(tools: readonly CliTool[] = ["az", "azd"]): void {
    for (const tool of tools) this.#sessions.delete(tool);
  }

  /** `az account set` / `azd config set defaults.tenant`: switch the logged-in tenant. */
  setTenant(tenantId: string, tools: readonly CliTool[] = ["az", "azd"]): void {
    if (!this.#deps.directory.hasTenant(tenantId))
      throw new Error(`cli.setTenant: unknown tenant ${tenantId}`);
    for (const tool of tools) {
      const session = this.#sessions.get(tool);
      if (!session) throw new Error(`cli.setTenant: ${tool} is not logged in`);
      session.tenantId = tenantId.toLowerCase();
    }
  }

  isLoggedIn(tool: CliTool): boolean {
    return this.#sessions.has(tool);
  }

  /** The bridge route the scripts call (POST /cli/az, /cli/azd). */
  route(tool: CliTool): Route {
    return {
      endpoint: "cli",
      identify: () => this.#identity(tool),
      handle: (ctx) => this.#handle(tool, ctx),
      renderFault: (fault, ctx) => this.#renderFault(tool, fault, ctx),
    };
  }

  /** Is this the key the scripts were written with? */
  acceptsKey(key: unknown): boolean {
    return typeof key === "string" && constantTimeEquals(key, this.#key);
  }

  toJSON(): object {
    return { binDir: this.binDir, loggedIn: { az: this.isLoggedIn("az"), azd: this.isLoggedIn("azd") } };
  }

  [inspect.custom](): object {
    return this.toJSON();
  }

  #identity(tool: CliTool): Identity {
    const session = this.#sessions.get(tool);
    const record = session ? this.#deps.directory.tryResolve({ objectId: session.objectId }) : undefined;
    if (!record) return {};
    return record.kind === "user" ? { upn: record.upn } : { clientId: record.clientId };
  }

  #handle(tool: CliTool, ctx: RequestContext): HandlerResult {
    const args = new URLSearchParams(ctx.body).getAll("arg");
    const { words, flags } = parseArgs(args);
    const command = words.join(" ");
    const logPath = `${tool} ${command}`.trim();
    const identity = this.#identity(tool);
    const result = (r: HandlerResult): HandlerResult => ({ identity, ...r, logPath });
    if (tool === "az") {
      if (command === "account get-access-token") return result(this.#token(tool, ctx, flags));
      if (command === "account show") return result(this.#accountShow(tool));
      if (command === "version" || flags.has("--version")) {
        return result({ status: 200, text: "azure-cli 2.67.0 (local Entra ID fake)" });
      }
      return result(exit(2, `ERROR: '${words[0] ?? ""}' is misspelled or not recognized by the system.`));
    }
    if (command === "auth token") return result(this.#token(tool, ctx, flags));
    if (command === "version" || flags.has("--version")) {
      return result({ status: 200, text: "azd version 1.11.0 (local Entra ID fake)" });
    }
    return result(exit(1, `ERROR: unknown command "${words[0] ?? ""}" for "azd"`));
  }

  #accountShow(tool: CliTool): HandlerResult {
    const session = this.#sessions.get(tool);
    const record = session ? this.#deps.directory.tryResolve({ objectId: session.objectId }) : undefined;
    if (!session || !record) return exit(1, LOGGED_OUT[tool]);
    return {
      status: 200,
      text: JSON.stringify(
        {
          environmentName: "AzureCloud",
          homeTenantId: record.tenantId,
          id: session.subscriptionId,
          isDefault: true,
          managedByTenants: [],
          name: "local-entra",
          state: "Enabled",
          tenantId: session.tenantId,
          user: {
            name: record.kind === "user" ? record.upn : record.clientId,
            type: record.kind === "user" ? "user" : "servicePrincipal",
          },
        },
        null,
        2,
      ),
    };
  }

  #token(tool: CliTool, ctx: RequestContext, flags: Map<string, string>): HandlerResult {
    const session = this.#sessions.get(tool);
    if (!session) return exit(1, LOGGED_OUT[tool]);
    let resource: string | undefined;
    try {
      const record = this.#deps.directory.tryResolve({ objectId: session.objectId });
      const tenantId = (
        flags.get(tool === "az" ? "--tenant" : "--tenant-id") ?? session.tenantId
      ).toLowerCase();
      if (!this.#deps.directory.hasTenant(tenantId)) throw aadsts.tenantNotFound(tenantId);
      if (!record) throw missingPrincipal(session, tenantId);
      if (record.tenantId !== tenantId) throw missingPrincipal(session, tenantId, record);
      if (!record.enabled) {
        throw record.kind === "user"
          ? aadsts.userDisabled()
          : aadsts.appDisabled(record.clientId, record.displayName);
      }
      if (record.kind === "app" && !record.secretDigests.some((d) => session.secretDigest?.equals(d))) {
        throw aadsts.invalidClientSecret(record.clientId);
      }
      resource = this.#resourceOf(tool, flags);
      if (!this.#deps.resources.isKnown(resource)) throw aadsts.resourceNotFound(resource, tenantId);
      return this.#issue(tool, record, tenantId, resource, session, ctx);
    } catch (error) {
      if (!(error instanceof EntraError)) throw error;
      return { ...this.#entraFailure(tool, error, ctx, resource), ...(resource ? { resource } : {}) };
    }
  }

  #resourceOf(tool: CliTool, flags: Map<string, string>): string {
    // az takes --resource (or --scope); azd takes --scope (default: ARM, as the real one).
    const resource = tool === "az" ? flags.get("--resource") : undefined;
    if (resource) return resource;
    const scope = flags.get("--scope") ?? "https://management.azure.com//.default";
    return resourceFromScope(scope);
  }

  #issue(
    tool: CliTool,
    record: PrincipalRecord,
    tenantId: string,
    resource: string,
    session: CliSession,
    ctx: RequestContext,
  ): HandlerResult {
    const minted = mintAccessToken({
      subject: tokenSubject(record),
      resource,
      nowMs: ctx.nowMs,
      lifetimeSeconds: this.#deps.settings.tokenLifetimeSeconds,
      tenantId,
      clientAppId: AZURE_CLI_CLIENT_ID,
      signingKey: this.#deps.keys.current,
    });
    const expiresOnMs = minted.expiresOnTimestamp;
    const output =
      tool === "az"
        ? {
            accessToken: minted.token,
            expiresOn: azLocalTimestamp(expiresOnMs),
            expires_on: minted.claims.exp,
            subscription: session.subscriptionId,
            tenant: tenantId,
            tokenType: "Bearer",
          }
        : { token: minted.token, expiresOn: new Date(expiresOnMs).toISOString().replace(/\.\d{3}Z$/, "Z") };
    return {
      status: 200,
      text: JSON.stringify(output, null, 2),
      resource,
      issued: {
        kind: record.kind,
        objectId: record.objectId,
        ...(record.kind === "user" ? { upn: record.upn } : { clientId: record.clientId }),
        resource,
        expiresOn: expiresOnMs,
      },
    };
  }

  #entraFailure(
    tool: CliTool,
    error: EntraError,
    ctx: RequestContext,
    resource: string | undefined,
  ): HandlerResult {
    const body = entraErrorBody(error, {
      nowMs: ctx.nowMs,
      correlationId: undefined,
      authorityHost: this.#deps.authorityHost,
    });
    if (tool === "azd")
      return { ...exit(1, `ERROR: fetching token: ${body.error_description}`), error: error.error };
    const isUserGrant = error.error === "invalid_grant";
    // For a user whose refresh fails, az adds how to sign in again for that scope.
    const hint =
      isUserGrant && resource
        ? `\nInteractive authentication is needed. Please run:\naz login --scope ${resource}/.default`
        : "";
    return { ...exit(1, `ERROR: ${body.error_description}${hint}`), error: error.error };
  }

  #renderFault(tool: CliTool, fault: InjectedFault, ctx: RequestContext): HandlerResult {
    const args = new URLSearchParams(ctx.body).getAll("arg");
    const logPath = `${tool} ${parseArgs(args).words.join(" ")}`.trim();
    const prefix = tool === "az" ? "ERROR: " : "ERROR: fetching token: ";
    const base = { logPath, error: fault.kind };
    switch (fault.kind) {
      case "malformedJson":
        return { ...base, status: 200, text: '{\n  "accessToken": "eyJ0eXAiOiJKV1Qi' };
      case "serverError":
        return {
          ...base,
          ...exit(
            1,
            `${prefix}The service is temporarily unavailable (HTTP ${fault.status ?? 500}). [local Entra: injected fault]`,
          ),
        };
      case "throttle":
        return {
          ...base,
          ...exit(
            1,
            `${prefix}Too many requests (HTTP 429, Retry-After: ${fault.retryAfterSeconds}). [local Entra: injected fault]`,
          ),
        };
      case "invalidClient": {
        const error = aadsts.injectedInvalidClient(this.#identity(tool).clientId ?? "");
        return { ...this.#entraFailure(tool, error, ctx, undefined), logPath };
      }
    }
  }
}

/** Exit code N is carried as HTTP 400 + N; the script turns it back. */
function exit(code: number, stderr: string): HandlerResult {
  return { status: 400 + code, text: stderr };
}

function missingPrincipal(session: CliSession, tenantId: string, record?: PrincipalRecord): EntraError {
  if (record?.kind === "user") return aadsts.userNotFound(record.upn, tenantId);
  if (record) return aadsts.appNotFound(record.clientId, tenantId);
  // Revoked since login: we no longer know what it was; report it as the object id.
  return aadsts.userNotFound(session.objectId, tenantId);
}

function secretOf(principal: PrincipalRef | RegisteredPrincipal): string | undefined {
  if (typeof principal !== "object" || !("clientSecret" in principal)) return undefined;
  const secret = (principal as { clientSecret?: unknown }).clientSecret;
  return typeof secret === "string" ? secret : undefined;
}

function parseArgs(args: readonly string[]): { words: string[]; flags: Map<string, string> } {
  const words: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (!arg.startsWith("-")) {
      if (flags.size === 0) words.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    } else if (VALUE_FLAGS.has(arg) && i + 1 < args.length) {
      flags.set(FLAG_ALIASES[arg] ?? arg, args[++i] ?? "");
    } else {
      flags.set(FLAG_ALIASES[arg] ?? arg, "");
    }
  }
  return { words, flags };
}

/** az's `expiresOn`: local time, "YYYY-MM-DD HH:MM:SS.ffffff". */
export function azLocalTimestamp(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}.${pad(d.getMilliseconds() * 1000, 6)}`;
}
