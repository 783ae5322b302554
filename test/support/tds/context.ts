import type { BatchOutcome, SqlEngine } from "../sql-engine/types.js";
import type { ServerError } from "./azure-errors.js";
import type { DatabaseUsers } from "./database-users.js";
import type { StandInEvent } from "./events.js";
import type { FirewallRules } from "./options.js";
import type { LoginRecord, StandInCounters } from "./records.js";
import type { UserStatement } from "./sql-text.js";
import type { TokenVerifier } from "./token-verifier.js";

/** What a session needs from the stand-in that owns it (implemented by SqlStandIn). */
export interface StandInContext {
  readonly database: string;
  readonly serverName: string;
  readonly requireEncryption: boolean;
  readonly tls: { certificatePem: string; privateKeyPem: string };
  readonly verifier: TokenVerifier | undefined;
  readonly fedAuthInfo: { stsUrl: string; spn: string };
  readonly sqlLogins: ReadonlyArray<{ userName: string; password: string }>;
  readonly users: DatabaseUsers;
  readonly counters: StandInCounters;
  readonly latencyMs: number;
  readonly loginsRefused: boolean;
  /** Firewall rules; undefined: every client may log in. */
  readonly firewall: FirewallRules | undefined;
  nowMs(): number;
  /** Resolves at once, or when a `holdLogins()` hold is released (token logins wait here). */
  awaitLoginHold(): Promise<void>;
  /** Consumes one injected login error, if any are pending. */
  takeInjectedLoginError(): ServerError | undefined;
  recordLogin(record: LoginRecord): void;
  emit(event: StandInEvent): void;
  /** The engine, started on first use; undefined when none is configured. */
  engine(): Promise<SqlEngine | undefined>;
  readonly engineStarted: boolean;
  /** CREATE USER ... FROM EXTERNAL PROVIDER and friends, resolved like Azure does. */
  runUserStatements(statements: readonly UserStatement[]): BatchOutcome;
}
