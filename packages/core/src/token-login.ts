import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import type { ConnectionOpenedEvent, Emit, LoginRetriedEvent } from "./connection-events.js";
import type { ConnectionStamp } from "./connection-lifetime.js";
import type { TokenMode } from "./connection-options.js";
import { readableConnectError, TokenLoginRejectedError } from "./login-errors.js";
import { isLoginTokenRejected } from "./sql-errors.js";
import type { TokenSource } from "./token-source.js";

// The login of one new physical connection, as every driver adapter does it (first written in
// @entra-sql/mssql's connection pool and @entra-sql/knex's client): a token first (inline) or a
// per-login recording credential (token-credential), the driver's login, one retry with a fresh token
// when the server refuses the token, and the `login-retried` / `connection-opened` events. How the
// driver receives the authentication, and how a connection is stamped and watched, stay in the adapter.

/** What one login used, recorded for the stamp, the retry and the error. Filled in as the login runs. */
export interface LoginToken {
  token: string | undefined;
  expiresOnTimestamp: number | undefined;
  scope: string | undefined;
}

/**
 * The authentication of one login as plain data, in tedious' terms: an inline token
 * (`azure-active-directory-access-token`) or a credential tedious calls after the server names its SPN
 * (`token-credential`). The adapter puts it where its driver expects it (tedious' `authentication:
 * { type, options }`, Knex's connection settings).
 */
export type TokenAuthentication =
  | { type: "azure-active-directory-access-token"; token: string }
  | { type: "token-credential"; credential: TokenCredential };

export interface TokenLoginSettings<C> {
  tokenSource: TokenSource;
  tokenMode: TokenMode;
  /** The scope of an inline token (the adapter resolves it from the server); `undefined` otherwise. */
  scope: string | undefined;
  /** Receives `login-retried` and `connection-opened` (see `safeEmitter`). */
  emit: Emit<LoginRetriedEvent | ConnectionOpenedEvent>;
  /** The adapter's package name, for error messages, e.g. `"@entra-sql/knex"`. */
  packageName: string;
  /** For error messages. */
  server: string;
  /** For the message of a TokenLoginRejectedError. */
  database: string | undefined;
  /**
   * One login with `authentication`: the driver's connect. `used` is filled in before the call
   * (inline) or while the driver asks the credential (token-credential).
   */
  attempt: (authentication: TokenAuthentication, used: LoginToken) => Promise<C>;
  /**
   * Called once with the connection that logged in: the adapter stamps it (connection-lifetime policy,
   * from `used.expiresOnTimestamp`), watches it as it needs, and returns the stamp.
   */
  stamp: (connection: C, used: LoginToken) => ConnectionStamp;
}

/**
 * Logs one new connection in. When the server refuses the token (core's `isLoginTokenRejected`: 18456
 * expired or revoked), the token source drops that token (only while it still caches it, so logins
 * refused together share one refresh), `login-retried` is emitted, and the login runs once more with a
 * fresh token; a second refusal throws a TokenLoginRejectedError (its `cause` the server's error).
 * Other errors are thrown as `readableConnectError` makes them. Emits `connection-opened` on success.
 * @example
 * const connection = await loginWithFreshTokenRetry({
 *   tokenSource, tokenMode, scope, emit, packageName: "my-adapter", server, database,
 *   attempt: (authentication) => connect({ ...settings, ...authentication }),
 *   stamp: (connection, used) => lifetime.stamp({ tokenExpiresOnTimestamp: used.expiresOnTimestamp }),
 * });
 */
export async function loginWithFreshTokenRetry<C>(settings: TokenLoginSettings<C>): Promise<C> {
  const { tokenSource, emit, packageName, server } = settings;
  const startedAt = Date.now();
  const first = emptyLoginToken();
  try {
    return await loginOnce(settings, first, startedAt, 1);
  } catch (error) {
    const verdict = isLoginTokenRejected(error);
    if (verdict === false) throw readableConnectError(error, { server, packageName });
    const scope = first.scope ?? settings.scope;
    // Only while the cache still holds the refused token: logins refused together share one refresh.
    tokenSource.invalidate(scope, first.token === undefined ? undefined : { token: first.token });
    emit(() => ({ type: "login-retried", verdict, scope }));
    const second = emptyLoginToken();
    try {
      return await loginOnce(settings, second, startedAt, 2);
    } catch (secondError) {
      if (isLoginTokenRejected(secondError) === false) {
        throw readableConnectError(secondError, { server, packageName });
      }
      throw new TokenLoginRejectedError(
        { token: second.token ?? first.token, server, database: settings.database, packageName },
        { cause: secondError },
      );
    }
  }
}

async function loginOnce<C>(
  settings: TokenLoginSettings<C>,
  used: LoginToken,
  startedAt: number,
  attempt: 1 | 2,
): Promise<C> {
  const { tokenSource, tokenMode } = settings;
  let authentication: TokenAuthentication;
  if (tokenMode === "inline") {
    const details = await tokenSource.getTokenDetails(settings.scope);
    used.token = details.token;
    used.expiresOnTimestamp = details.expiresOnTimestamp;
    used.scope = details.scope;
    authentication = { type: "azure-active-directory-access-token", token: details.token };
  } else {
    authentication = { type: "token-credential", credential: recordingCredential(tokenSource, used) };
  }
  const connection = await settings.attempt(authentication, used);
  // core's token source reports the earlier of the credential's expiry and the token's `exp` claim.
  const stamp = settings.stamp(connection, used);
  settings.emit(() => ({
    type: "connection-opened",
    tokenMode,
    scope: used.scope,
    tokenExpiresOnTimestamp: stamp.tokenExpiresOnTimestamp,
    retireAt: stamp.retireAt,
    durationInMs: Date.now() - startedAt,
    attempt,
  }));
  return connection;
}

/** One credential object per login, so the token the connection logged in with is known. */
function recordingCredential(tokenSource: TokenSource, used: LoginToken): TokenCredential {
  return {
    getToken: async (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> => {
      const token = await tokenSource.getToken(scopes, options);
      used.token = token.token;
      used.expiresOnTimestamp = token.expiresOnTimestamp;
      used.scope = Array.isArray(scopes) ? scopes[0] : scopes;
      return token;
    },
  };
}

function emptyLoginToken(): LoginToken {
  return { token: undefined, expiresOnTimestamp: undefined, scope: undefined };
}
