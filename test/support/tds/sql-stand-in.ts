import { once } from "node:events";
import net from "node:net";
import type { ConnectionAuthentication, ConnectionConfiguration, ConnectionOptions } from "tedious";
import { createSqlEngine } from "../sql-engine/index.js";
import type { BatchOutcome, SqlEngine } from "../sql-engine/types.js";
import { type ServerError, transientError } from "./azure-errors.js";
import type { StandInContext } from "./context.js";
import { type CreateUserInput, type DatabaseUser, DatabaseUsers } from "./database-users.js";
import { defaultCertificate } from "./default-certificate.js";
import type { StandInEvent } from "./events.js";
import {
  DEFAULTS,
  defaultStsUrl,
  type FirewallRules,
  type SqlStandInOptions,
  validateFirewall,
  validateOptions,
} from "./options.js";
import type { ClosedSessionInfo, LoginRecord, SessionInfo, StandInCounters } from "./records.js";
import { Session } from "./session.js";
import { parseUserStatements } from "./sql-text.js";
import { TokenVerifier } from "./token-verifier.js";
import { runUserStatements } from "./user-statements.js";

// The SQL endpoint stand-in: a TDS server on loopback that authenticates like Azure SQL Database
// and hands queries to an embedded engine. Tests drive it at runtime through the control API below
// (users, kills, refusals, injected transient errors, latency, revalidation after "failover").

/** First SPID handed out; SQL Server reserves the lower ones for system sessions. */
const FIRST_SESSION_ID = 51;

export async function startSqlStandIn(options: SqlStandInOptions = {}): Promise<SqlStandIn> {
  validateOptions(options);
  const tls = options.tls ?? (await defaultCertificate());
  const caPem = tls.caPem ?? "";
  const standIn = new SqlStandIn(
    options,
    { certificatePem: tls.certificatePem, privateKeyPem: tls.privateKeyPem },
    caPem,
  );
  await standIn.listen();
  return standIn;
}

export interface ConnectionConfigOptions {
  /** tedious authentication, e.g. `{ type: "azure-active-directory-access-token", options: { token } }`. */
  authentication: ConnectionAuthentication;
  /** Default true (TLS inside PRELOGIN); "strict" for TDS 8.0; false for none. */
  encrypt?: boolean | "strict";
  /** Extra tedious options, merged last. */
  options?: Partial<ConnectionOptions>;
}

/** Token logins held by `holdLogins()` until `release()`. */
export interface LoginHold {
  /** Token logins waiting at the hold right now. */
  readonly waiting: number;
  /** Lets the waiting logins (and every later one) go on. Idempotent. */
  release(): void;
}

export class SqlStandIn {
  private readonly server: net.Server;
  private readonly sessions_ = new Map<number, Session>();
  private readonly closedSessions_: ClosedSessionInfo[] = [];
  private hold: { promise: Promise<void>; release: () => void; waiting: number } | undefined;
  private nextSessionId = FIRST_SESSION_ID;
  private readonly loginRecords: LoginRecord[] = [];
  /** How many login attempts and ended sessions the records keep (options.recordsKept). */
  private readonly recordsKept: number;
  private readonly users_: DatabaseUsers;
  private readonly verifier: TokenVerifier | undefined;
  private readonly counters_: StandInCounters = {
    loginsOk: 0,
    loginsFailed: 0,
    statementsExecuted: 0,
    statementsRejected: 0,
    connectionsAccepted: 0,
  };
  private refusing = false;
  private firewall_: FirewallRules | undefined;
  private latency: number;
  private clockOffset: number;
  private injected: { number: number; remaining: number } | undefined;
  private enginePromise: Promise<SqlEngine | undefined> | undefined;
  private ownsEngine = false;
  private closing: Promise<void> | undefined;
  private boundPort = 0;
  private readonly ctx: StandInContext;

  readonly host: string;
  readonly database: string;
  readonly serverName: string;

  /** @internal use startSqlStandIn */
  constructor(
    private readonly options: SqlStandInOptions,
    tls: { certificatePem: string; privateKeyPem: string },
    /** CA certificate (PEM) clients trust for TLS and strict connections. */
    readonly caPem: string,
  ) {
    this.host = options.host ?? DEFAULTS.host;
    this.database = options.database ?? DEFAULTS.database;
    this.serverName = options.serverName ?? DEFAULTS.serverName;
    this.latency = options.latencyMs ?? DEFAULTS.latencyMs;
    this.clockOffset = options.clockOffsetMs ?? DEFAULTS.clockOffsetMs;
    this.recordsKept = options.recordsKept ?? DEFAULTS.recordsKept;
    this.users_ = new DatabaseUsers(options.resolvePrincipalName);
    this.firewall_ = options.firewall;
    this.verifier = options.tokenVerification ? new TokenVerifier(options.tokenVerification) : undefined;
    for (const user of options.users ?? []) this.users_.create(user, new Date());

    const self = this;
    this.ctx = {
      database: this.database,
      serverName: this.serverName,
      requireEncryption: options.requireEncryption ?? DEFAULTS.requireEncryption,
      tls,
      verifier: this.verifier,
      fedAuthInfo: {
        stsUrl: options.fedAuthInfo?.stsUrl ?? defaultStsUrl(options.tokenVerification),
        spn: options.fedAuthInfo?.spn ?? DEFAULTS.spn,
      },
      sqlLogins: options.sqlLogins ?? [],
      users: this.users_,
      counters: this.counters_,
      get latencyMs() {
        return self.latency;
      },
      get loginsRefused() {
        return self.refusing;
      },
      get firewall() {
        return self.firewall_;
      },
      get engineStarted() {
        return self.enginePromise !== undefined;
      },
      nowMs: () => Date.now() + this.clockOffset,
      awaitLoginHold: () => this.awaitLoginHold(),
      takeInjectedLoginError: () => this.takeInjectedLoginError(),
      recordLogin: (record) => {
        this.loginRecords.push(record);
        if (this.loginRecords.length > this.recordsKept) this.loginRecords.shift();
        if (record.ok) this.counters_.loginsOk++;
        else this.counters_.loginsFailed++;
        this.emit({ type: "login", record });
      },
      emit: (event) => this.emit(event),
      engine: () => this.engine(),
      runUserStatements: (statements) => runUserStatements(this.users_, statements),
    };

    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** @internal */
  async listen(): Promise<void> {
    this.server.listen(this.options.port ?? DEFAULTS.port, this.host);
    await once(this.server, "listening");
    this.boundPort = (this.server.address() as net.AddressInfo).port;
    this.emit({ type: "listening", host: this.host, port: this.boundPort });
  }

  get port(): number {
    return this.boundPort;
  }

  /**
   * tedious' TLS options for this endpoint (also mssql's and TypeORM's `options`): encrypted, and the
   * certificate checked against the stand-in's CA (never trustServerCertificate).
   */
  tlsOptions() {
    return {
      encrypt: true,
      trustServerCertificate: false,
      // The certificate names localhost; connecting to 127.0.0.1 with this SNI/identity avoids
      // both an IPv6 detour and Node's "IP address as servername" warning.
      serverName: "localhost",
      cryptoCredentialsDetails: { ca: this.caPem },
    } as const;
  }

  /** A tedious configuration for this endpoint that trusts its CA (never trustServerCertificate). */
  connectionConfig(config: ConnectionConfigOptions): ConnectionConfiguration {
    return {
      server: this.host,
      authentication: config.authentication,
      options: {
        port: this.port,
        database: this.database,
        ...this.tlsOptions(),
        encrypt: config.encrypt ?? true,
        ...config.options,
      },
    };
  }

  // ---- principals ------------------------------------------------------------------------------

  /** Like `CREATE USER [name] FROM EXTERNAL PROVIDER` (ids resolved via `resolvePrincipalName`). */
  createUser(input: CreateUserInput): DatabaseUser {
    return { ...this.users_.create(input, new Date()) };
  }

  /** Like `DROP USER [name]`. Open sessions fail with 37396 after revalidate(). */
  dropUser(name: string): boolean {
    return this.users_.drop(name);
  }

  users(): DatabaseUser[] {
    return this.users_.list();
  }

  /**
   * The principal (by object id) loses access: new logins fail 18456, sessions 37396 after revalidate().
   * With `tokensIssuedBefore`, only tokens whose `iat` (1 s resolution) is before that time are refused
   * (at login, and on revalidated sessions): a token fetched afterwards logs in. Replaces an earlier
   * revocation of the principal.
   */
  revokePrincipal(objectId: string, options: { tokensIssuedBefore?: Date } = {}): void {
    this.users_.revoke(objectId, options.tokensIssuedBefore);
  }

  restorePrincipal(objectId: string): void {
    this.users_.unrevoke(objectId);
  }

  /**
   * From now on, token logins wait after their token has arrived (LOGIN7 inline, or FEDAUTH_TOKEN) and
   * before it is checked, until `release()`: a test can let a client do something (a token refresh)
   * while its login is in flight, and decide what the server will answer. One hold at a time.
   */
  holdLogins(): LoginHold {
    if (this.hold !== undefined) throw new Error("SqlStandIn: logins are already held; release() first");
    let release = () => {};
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hold = { promise, release, waiting: 0 };
    this.hold = hold;
    return {
      get waiting() {
        return hold.waiting;
      },
      release: () => {
        if (this.hold === hold) this.hold = undefined;
        hold.waiting = 0;
        hold.release();
      },
    };
  }

  // ---- observation -----------------------------------------------------------------------------

  /** Every login attempt so far, oldest first. */
  get logins(): LoginRecord[] {
    return this.loginRecords.map((record) => ({ ...record }));
  }

  /** Logged-in sessions right now. */
  get sessions(): SessionInfo[] {
    return [...this.sessions_.values()].flatMap((session) => session.info() ?? []);
  }

  /**
   * Sessions that logged in and have ended, oldest end first, with when and why (the last 10,000).
   */
  get closedSessions(): ClosedSessionInfo[] {
    return this.closedSessions_.map((session) => ({ ...session, principal: { ...session.principal } }));
  }

  get counters(): StandInCounters {
    return { ...this.counters_ };
  }

  /** How many times the JWKS was fetched (it is cached by kid). */
  get jwksFetchCount(): number {
    return this.verifier?.jwksFetchCount ?? 0;
  }

  // ---- control ---------------------------------------------------------------------------------

  /** Drops the session's connection abruptly, like KILL. Returns false for an unknown id. */
  killSession(id: number): boolean {
    const session = this.sessions_.get(id);
    session?.kill();
    return session !== undefined;
  }

  killAllSessions(): number {
    const all = [...this.sessions_.values()];
    for (const session of all) session.kill();
    return all.length;
  }

  /**
   * Replaces the firewall rules (see the `firewall` option); `undefined` lets every client in again.
   * A login from an address not allowed fails with 40615 (reason "firewall").
   */
  setFirewall(rules: FirewallRules | undefined): void {
    validateFirewall(rules);
    this.firewall_ = rules && { allowedAddresses: [...rules.allowedAddresses] };
  }

  /** While on, every login fails with 18456 (reason "refused"). */
  refuseLogins(on: boolean): void {
    this.refusing = on;
  }

  /** Delay added before each response, in ms. */
  get latencyMs(): number {
    return this.latency;
  }

  set latencyMs(value: number) {
    if (!Number.isFinite(value) || value < 0)
      throw new TypeError(`SqlStandIn: latencyMs must be >= 0, got ${value}`);
    this.latency = value;
  }

  /** Shift of the stand-in's clock for token lifetime checks, in ms (positive = later). */
  get clockOffsetMs(): number {
    return this.clockOffset;
  }

  set clockOffsetMs(value: number) {
    this.clockOffset = value;
  }

  /**
   * The next `count` logins that would succeed fail with `number` instead (Azure's text for 40613,
   * 40197, 40501, 49918-49920). tedious retries these at connect time.
   */
  injectLoginErrors(spec: { number: number; count: number }): void {
    if (!Number.isInteger(spec.count) || spec.count < 0) {
      throw new TypeError(
        `SqlStandIn: injectLoginErrors count must be a non-negative integer, got ${spec.count}`,
      );
    }
    this.injected = spec.count > 0 ? { number: spec.number, remaining: spec.count } : undefined;
  }

  /**
   * Like Azure SQL after maintenance or failover: from now on, a statement on a session whose login
   * token has expired, or whose principal was revoked or dropped, fails with 37396 (not executed).
   * Before this, sessions outlive their tokens. Returns the number of sessions affected.
   */
  revalidate(): number {
    let count = 0;
    for (const session of this.sessions_.values()) {
      if (!session.isLoggedIn) continue;
      session.revalidate();
      count++;
    }
    return count;
  }

  /**
   * The server no longer accepts this session's login token: from now on every statement on it fails
   * with 37396 (not executed); the client has to log in again on a new connection. Other sessions and
   * new logins are unaffected. Like revalidate() finding a session whose token has run out (Azure SQL
   * after maintenance or a failover), without waiting for the token to run out: clients that retire
   * connections before their token expires never meet that case otherwise. Returns false for an
   * unknown session or one not logged in.
   */
  requireReauthentication(sessionId: number): boolean {
    const session = this.sessions_.get(sessionId);
    if (!session?.isLoggedIn) return false;
    session.requireReauthentication();
    return true;
  }

  /**
   * Runs T-SQL as an administrator outside any session: user statements (CREATE USER ... FROM
   * EXTERNAL PROVIDER, DROP USER, ALTER ROLE ... ADD MEMBER) are handled here, the rest by the engine.
   */
  async exec(sql: string): Promise<BatchOutcome> {
    const statements = parseUserStatements(sql);
    if (statements) return runUserStatements(this.users_, statements);
    const engine = await this.engine();
    if (!engine) throw new Error("SqlStandIn: no engine configured");
    return engine.exec(sql);
  }

  /** The engine (started on first call when configured as a factory). */
  engine(): Promise<SqlEngine | undefined> {
    // A factory that failed is tried again on the next request rather than failing forever.
    this.enginePromise ??= this.startEngine().catch((error: unknown) => {
      this.enginePromise = undefined;
      throw error;
    });
    return this.enginePromise;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = once(this.server, "close").catch(() => undefined);
      this.server.close();
      for (const session of this.sessions_.values()) session.kill("server-closed");
      await closed;
      if (this.ownsEngine && this.enginePromise) {
        const engine = await this.enginePromise.catch(() => undefined);
        await engine?.close();
      }
    })();
    return this.closing;
  }

  // ---- internals -------------------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const id = this.nextSessionId++;
    this.counters_.connectionsAccepted++;
    const session = new Session(id, socket, this.ctx, (closed, info) => {
      this.sessions_.delete(closed.id);
      if (info === undefined) return;
      this.closedSessions_.push(info);
      if (this.closedSessions_.length > this.recordsKept) this.closedSessions_.shift();
    });
    this.sessions_.set(id, session);
    this.emit({ type: "connection", sessionId: id });
  }

  private async startEngine(): Promise<SqlEngine | undefined> {
    const configured =
      this.options.engine === undefined
        ? () => createSqlEngine({ databaseName: this.database })
        : this.options.engine;
    if (!configured) return undefined;
    const started = performance.now();
    let engine: SqlEngine;
    if (typeof configured === "function") {
      this.ownsEngine = true;
      engine = await configured();
    } else {
      engine = configured;
    }
    this.emit({ type: "engine-started", durationMs: performance.now() - started });
    return engine;
  }

  private async awaitLoginHold(): Promise<void> {
    const hold = this.hold;
    if (hold === undefined) return;
    hold.waiting++;
    await hold.promise;
  }

  private takeInjectedLoginError(): ServerError | undefined {
    const injected = this.injected;
    if (!injected || injected.remaining <= 0) return undefined;
    injected.remaining--;
    if (injected.remaining === 0) this.injected = undefined;
    return transientError(injected.number, { database: this.database, server: this.serverName });
  }

  private emit(event: StandInEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // An observer must not break the server.
    }
  }
}
