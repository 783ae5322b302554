import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { ScopeNotAllowedError, type TokenSource } from "@entra-sql/core";
import { canonicalScope, decodePayload } from "@entra-sql/core/internal";
import type { ConnectionOpenedEvent, Emit, LoginRetriedEvent } from "./connection-events.js";
import type { ConnectionStamp } from "./connection-lifetime.js";
import type { TokenMode } from "./connection-options.js";
import {
  isLoginRefusedError,
  LoginRefusedError,
  readableConnectError,
  TokenLoginRejectedError,
} from "./login-errors.js";
import { refusalOtherThanToken, type ServerMessage, serverMessageOf } from "./login-refusals.js";
import { isLoginTokenRejected } from "./sql-errors.js";

// The login of one new physical connection: a token first (inline) or a per-login recording credential
// (token-credential), the driver's login, and one retry with a fresh token when the server refused the
// token, and only then (a wrong database or a firewall refusal is named, not retried). How the driver
// receives the authentication stays in the adapter; the lifecycle (connection-lifecycle.ts) stamps.

/** What one login used, recorded for the stamp, the retry and the error. Filled in as the login runs. */
export interface LoginToken {
  token: string | undefined;
  expiresOnTimestamp: number | undefined;
  /** `exp - iat` of the token, ms, when its claims say (sizes the automatic expiry margin). */
  lifetimeInMs: number | undefined;
  scope: string | undefined;
}

/**
 * The authentication of one login as plain data, in tedious' terms: an inline token
 * (`azure-active-directory-access-token`) or a credential tedious calls after the server names its SPN
 * (`token-credential`). The adapter puts it where its driver expects it (tedious' `authentication:
 * { type, options }`, Knex's connection settings, ...).
 */
export type TokenAuthentication =
  | { type: "azure-active-directory-access-token"; token: string }
  | { type: "token-credential"; credential: TokenCredential };

/**
 * One login with `authentication`: the driver's connect. Hand every server ERROR message of the login
 * (tedious' `errorMessage` events) to `onServerMessage`, so that a refusal that is not about the token
 * (4060 wrong database, 40615 firewall, ...) is named and not retried.
 */
export type LoginAttempt<C> = (
  authentication: TokenAuthentication,
  onServerMessage: (message: unknown) => void,
) => Promise<C>;

export interface TokenLoginSettings<C> {
  tokenSource: TokenSource;
  tokenMode: TokenMode;
  /** Inline: the scope to request (resolved from the server). Token-credential: the only scope allowed, if set. */
  scope: string | undefined;
  emit: Emit<LoginRetriedEvent | ConnectionOpenedEvent>;
  packageName: string;
  server: string;
  database: string | undefined;
  attempt: LoginAttempt<C>;
  /**
   * Called once with the connection that logged in; returns its stamp. `connectStartedAt`: when the
   * driver's connect that succeeded began, the connection's birth (its age counts its own login).
   */
  stamp: (connection: C, used: LoginToken, connectStartedAt: number) => ConnectionStamp;
}

/**
 * Logs one new connection in. When the server refuses the token (18456 and nothing else: expired,
 * revoked, no database user), the token source drops it (a token handed out after that comes from a
 * fetch that started after the refusal), `login-retried` is emitted, and the login runs once more; a
 * second refusal throws a TokenLoginRejectedError. A refusal for another reason throws a
 * LoginRefusedError with the server's first message and the fix; other errors are thrown as
 * `readableConnectError` makes them. Emits `connection-opened` on success.
 */
export async function loginWithFreshTokenRetry<C>(settings: TokenLoginSettings<C>): Promise<C> {
  const { tokenSource, emit, packageName, server, database } = settings;
  const startedAt = Date.now();
  const first = emptyLoginToken();
  try {
    return await loginOnce(settings, first, startedAt, 1);
  } catch (error) {
    // A refusal for another reason ends with 18456 too (its `cause`): named, never retried.
    if (isLoginRefusedError(error)) throw error;
    const verdict = isLoginTokenRejected(error);
    if (verdict === false) throw readableConnectError(error, { server, packageName });
    const scope = first.scope ?? settings.scope;
    tokenSource.invalidate(scope, first.token === undefined ? undefined : { token: first.token });
    emit(() => ({ type: "login-retried", verdict, scope }));
    const second = emptyLoginToken();
    try {
      return await loginOnce(settings, second, startedAt, 2);
    } catch (secondError) {
      if (isLoginRefusedError(secondError)) throw secondError;
      if (isLoginTokenRejected(secondError) === false)
        throw readableConnectError(secondError, { server, packageName });
      throw new TokenLoginRejectedError(
        { token: second.token ?? first.token, server, database, packageName },
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
    record(used, details.token, details.expiresOnTimestamp, details.scope);
    authentication = { type: "azure-active-directory-access-token", token: details.token };
  } else {
    authentication = { type: "token-credential", credential: recordingCredential(settings, used) };
  }
  const messages: ServerMessage[] = [];
  let connection: C;
  const connectStartedAt = Date.now();
  try {
    connection = await settings.attempt(authentication, (token) => {
      const message = serverMessageOf(token);
      if (message !== undefined) messages.push(message);
    });
  } catch (error) {
    const refusal = refusalOtherThanToken(messages);
    if (refusal === undefined) throw error;
    const { server, database, packageName } = settings;
    throw new LoginRefusedError({ server, database, refusal, packageName }, { cause: error });
  }
  const stamp = settings.stamp(connection, used, connectStartedAt);
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

/**
 * One credential object per login, so the token the connection logged in with is known. With a pinned
 * `scope`, any other scope a server names is refused before the token source is asked.
 */
function recordingCredential(
  settings: Pick<TokenLoginSettings<unknown>, "scope" | "tokenSource">,
  used: LoginToken,
): TokenCredential {
  const pinned = settings.scope === undefined ? undefined : canonicalScope(settings.scope);
  return {
    getToken: async (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> => {
      const scope = Array.isArray(scopes) ? scopes[0] : scopes;
      if (pinned !== undefined && (typeof scope !== "string" || canonicalScope(scope) !== pinned)) {
        throw new ScopeNotAllowedError(String(scope), [settings.scope as string]);
      }
      const token = await settings.tokenSource.getToken(scopes, options);
      record(used, token.token, token.expiresOnTimestamp, scope);
      return token;
    },
  };
}

function record(
  used: LoginToken,
  token: string,
  expiresOnTimestamp: number,
  scope: string | undefined,
): void {
  used.token = token;
  used.expiresOnTimestamp = expiresOnTimestamp;
  used.scope = scope;
  used.lifetimeInMs = lifetimeOf(token);
}

/** `exp - iat` in ms from the token's claims; `undefined` when it has none (not a JWT, say). */
function lifetimeOf(token: string): number | undefined {
  try {
    const { exp, iat } = decodePayload(token);
    return typeof exp === "number" && typeof iat === "number" && exp > iat ? (exp - iat) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function emptyLoginToken(): LoginToken {
  return { token: undefined, expiresOnTimestamp: undefined, lifetimeInMs: undefined, scope: undefined };
}
