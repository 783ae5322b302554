import type { TokenCredentialOptions } from "@azure/identity";
import type { CredentialSpec } from "./credential-spec.js";
import type { Logger, TokenSourceEvent } from "./events.js";
import { DEFAULT_SQL_SCOPE } from "./sql-audiences.js";

// Options of createTokenSource, with every default in one place (DEFAULTS) and the reasons for
// each default next to it. Validation (unknown keys, bad values) lives in validate-options.ts.

export interface TokenSourceOptions {
  /**
   * Where tokens come from: a preset name, a preset object, any `TokenCredential`, or a list.
   * Default `"default"`: the DefaultAzureCredential chain; when a source fails with an
   * authentication error the chain is walked again without it, and the winner is remembered.
   * @example "cli" | { type: "managed-identity", clientId: "..." } | ["managed-identity", "cli"]
   */
  credential?: CredentialSpec;
  /**
   * Scope used when a caller does not name one (`getAccessToken()`).
   * Default `"https://database.windows.net/.default"` (Azure SQL, public cloud).
   */
  scope?: string;
  /**
   * Scopes a token may be requested for; anything else is refused before any credential is called.
   * Default: the Azure SQL audiences of every cloud (see `SQL_SCOPES`).
   */
  allowedScopes?: readonly string[];
  /**
   * Start refreshing in the background once the cached token expires within this window, in ms.
   * Capped at 3/4 of the token's lifetime for short-lived tokens. Default 45 minutes.
   */
  refreshWindowInMs?: number;
  /**
   * A cached token is handed out only while it is valid for longer than this, in ms; below it,
   * callers wait for a new token. Capped at 1/6 of the token's lifetime. Default 10 minutes.
   */
  minimumValidityInMs?: number;
  /** First delay before retrying a failed background refresh, in ms; doubles up to the max. Default 1 s. */
  retryInitialDelayInMs?: number;
  /** Longest delay between background refresh retries, in ms. Default 60 s. */
  retryMaxDelayInMs?: number;
  /**
   * Options for the credentials built from presets (authority host, TLS trust, retries...).
   * @example { authorityHost: "https://login.microsoftonline.us" }
   */
  identityOptions?: TokenCredentialOptions & { disableInstanceDiscovery?: boolean };
  /** Receives every event as a log entry. Default: none (silent). */
  logger?: Logger;
  /** Receives every event. Default: none. Same as `tokenSource.on("*")`. */
  onEvent?: (event: TokenSourceEvent) => void;
}

export const DEFAULTS = {
  credential: "default",
  scope: DEFAULT_SQL_SCOPE,
  // .NET SqlClient refreshes Entra tokens from 45 minutes before expiry (mandatory at 10). A
  // connection may live as long as its login token, so a fresh token buys the pool long-lived
  // connections; the Azure SDK's 2-minute window suits per-request HTTP tokens, not logins.
  refreshWindowInMs: 45 * 60_000,
  minimumValidityInMs: 10 * 60_000,
  retryInitialDelayInMs: 1_000,
  retryMaxDelayInMs: 60_000,
} as const;
