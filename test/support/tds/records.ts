import type { SessionCloseReason } from "./events.js";
import type { TokenFailureReason } from "./token-verifier.js";

// What the stand-in remembers about logins and sessions, for tests to assert on. Never secrets:
// no tokens, no passwords.

export type AuthMode = "fedauth-inline" | "fedauth-credential" | "sql";
export type EncryptionMode = "off" | "tls" | "strict";

export type LoginFailureReason =
  | TokenFailureReason
  | "unknown-principal"
  | "revoked"
  | "refused"
  | "injected"
  | "bad-password"
  | "unknown-login"
  | "wrong-database"
  | "firewall"
  | "fedauth-not-configured";

export interface RecordedPrincipal {
  /** UPN for users, application id for apps, login name for SQL authentication. */
  name: string;
  objectId?: string;
  appId?: string;
  tenantId?: string;
  kind: "user" | "app" | "sql";
  /** The database user the principal logged in as (fedauth). */
  databaseUser?: string;
}

export interface LoginRecord {
  at: Date;
  /** The TDS session (SPID) the attempt ran on; live only when `ok`. */
  sessionId: number;
  authMode: AuthMode;
  encryption: EncryptionMode;
  ok: boolean;
  failure?: LoginFailureReason;
  /** The error number sent to the client (18456, 40613, 4060, ...). */
  errorNumber?: number;
  /** Human-readable why, for test failure messages. */
  detail?: string;
  principal?: RecordedPrincipal;
  tokenExpiresAt?: Date;
  /** The login token's `iat` (1 s resolution), when it had one. */
  tokenIssuedAt?: Date;
  /**
   * The login token's `uti` claim (Entra's unique token id, not a secret), when it had one: tells which
   * of several tokens a login used.
   */
  tokenId?: string;
  /** For token-credential logins: the SPN announced in FEDAUTHINFO. */
  announcedSpn?: string;
}

export interface SessionInfo {
  id: number;
  principal: RecordedPrincipal;
  authMode: AuthMode;
  encryption: EncryptionMode;
  loginAt: Date;
  tokenExpiresAt: Date | undefined;
  inTransaction: boolean;
  /** Set by revalidate(): statements on this session check the token and the principal first. */
  revalidated: boolean;
}

/** A session that has ended: what it was, and when and why it closed. */
export interface ClosedSessionInfo extends SessionInfo {
  closedAt: Date;
  closeReason: SessionCloseReason;
}

export interface StandInCounters {
  loginsOk: number;
  loginsFailed: number;
  /** Requests that reached the engine (batches, RPC executions, transaction manager requests). */
  statementsExecuted: number;
  /** Requests refused with 37396 after revalidate(). */
  statementsRejected: number;
  connectionsAccepted: number;
}
