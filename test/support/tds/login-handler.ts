import {
  cannotOpenDatabase,
  firewallRefused,
  loginFailed,
  type ServerError,
  TOKEN_PRINCIPAL,
  tokenLoginFailed,
} from "./azure-errors.js";
import { ByteWriter } from "./byte-writer.js";
import { DEFAULT_COLLATION } from "./collation.js";
import type { StandInContext } from "./context.js";
import { FEDAUTH_FEATURE_ID, UTF8_SUPPORT_FEATURE_ID } from "./fedauth.js";
import type { Login7 } from "./login7.js";
import { writeServerError } from "./outcome-encoder.js";
import { DEFAULT_PACKET_SIZE, MAX_PACKET_SIZE, MIN_PACKET_SIZE } from "./packet.js";
import type {
  AuthMode,
  EncryptionMode,
  LoginFailureReason,
  LoginRecord,
  RecordedPrincipal,
} from "./records.js";
import {
  DoneStatus,
  EnvChangeType,
  writeDone,
  writeEnvChangeBytes,
  writeEnvChangeText,
  writeFeatureExtAck,
  writeFedAuthInfo,
  writeLoginAck,
  writeMessage,
} from "./token-writer.js";

// Authentication at LOGIN7, where Azure SQL does it: refuse-switch, then SQL password or access token
// (signature, audience, issuer, lifetime), then the principal must be a database user and not revoked,
// then the database named in LOGIN7 must exist. Failures answer ERROR 18456 + DONE(error) and the
// session closes the connection; every attempt is recorded with the reason. A database that does not
// exist is answered the way Azure SQL answers it: ERROR 4060 ("Cannot open database ... requested by
// the login"), then ERROR 18456 ("Login failed for user ..."), then DONE(error). The login was
// authenticated first, so a token-credential client has fetched its token by then.

/** TDS 7.4, the version Azure SQL acknowledges to current drivers (LOGINACK writes it big-endian). */
const TDS_7_4 = 0x74000004;
const LANGUAGE = "us_english";

export interface LoggedIn {
  principal: RecordedPrincipal;
  /** The login token's `iat`, for revalidation against a revocation by issue time. */
  tokenIssuedAt?: Date | undefined;
  /** The name the engine session runs as (database user, or SQL login). */
  engineUserName: string;
  authMode: AuthMode;
  tokenExpiresAt: Date | undefined;
  packetSize: number;
  loginAt: Date;
}

export type LoginStep =
  | { kind: "success"; payload: Buffer; loggedIn: LoggedIn }
  | { kind: "failure"; payload: Buffer }
  | { kind: "await-fedauth-token"; payload: Buffer };

export class LoginHandler {
  private login7: Login7 | undefined;
  /** What the login token says about itself (issue time, token id), once it has been read. */
  private tokenFacts: Pick<LoginRecord, "tokenIssuedAt" | "tokenId"> = {};

  constructor(
    private readonly ctx: StandInContext,
    private readonly sessionId: number,
    private readonly encryption: EncryptionMode,
    /** The client's IP address as the socket reports it (IPv4-mapped IPv6 unwrapped). */
    private readonly clientAddress = "",
  ) {}

  private authMode(login7: Login7): AuthMode {
    if (!login7.fedAuth) return "sql";
    return login7.fedAuth.library === "security-token" ? "fedauth-inline" : "fedauth-credential";
  }

  async onLogin7(login7: Login7): Promise<LoginStep> {
    this.login7 = login7;
    const authMode = this.authMode(login7);
    const displayName = authMode === "sql" ? login7.userName : TOKEN_PRINCIPAL;

    const firewall = this.ctx.firewall;
    if (firewall && !firewall.allowedAddresses.includes(this.clientAddress)) {
      return this.fail(
        authMode,
        "firewall",
        firewallRefused(this.ctx.serverName, this.clientAddress),
        `client ${this.clientAddress} is not in the firewall rules`,
      );
    }
    if (this.ctx.loginsRefused) {
      return this.fail(authMode, "refused", loginFailed(displayName), "logins are refused (refuseLogins)");
    }
    if (authMode === "sql") return this.sqlLogin(login7);
    if (!this.ctx.verifier) {
      return this.fail(
        authMode,
        "fedauth-not-configured",
        tokenLoginFailed(false),
        "no tokenVerification configured",
      );
    }
    if (login7.fedAuth?.library === "security-token") return this.tokenLogin(authMode, login7.fedAuth.token);

    // MSAL workflow: tell the client where to get a token, then wait for FEDAUTH_TOKEN. The reply
    // carries ONLY the FEDAUTHINFO token (no DONE): that is what clients wait for.
    const writer = new ByteWriter();
    writeFedAuthInfo(writer, this.ctx.fedAuthInfo);
    return { kind: "await-fedauth-token", payload: writer.toBuffer() };
  }

  async onFedAuthToken(token: string): Promise<LoginStep> {
    return this.tokenLogin("fedauth-credential", token);
  }

  private sqlLogin(login7: Login7): LoginStep {
    const login = this.ctx.sqlLogins.find((l) => l.userName.toLowerCase() === login7.userName.toLowerCase());
    if (!login) return this.fail("sql", "unknown-login", loginFailed(login7.userName), "no such SQL login");
    if (login.password !== login7.password) {
      return this.fail("sql", "bad-password", loginFailed(login7.userName), "wrong password", {
        name: login.userName,
        kind: "sql",
      });
    }
    const principal: RecordedPrincipal = { name: login.userName, kind: "sql" };
    return this.succeed("sql", principal, login.userName, undefined);
  }

  private async tokenLogin(authMode: AuthMode, token: string): Promise<LoginStep> {
    const verifier = this.ctx.verifier;
    if (!verifier) return this.fail(authMode, "fedauth-not-configured", tokenLoginFailed(false));
    await this.ctx.awaitLoginHold();
    const check = await verifier.verify(token, this.ctx.nowMs());
    const { iat, uti } = check.claims ?? {};
    this.tokenFacts = {
      ...(typeof iat === "number" ? { tokenIssuedAt: new Date(iat * 1000) } : {}),
      ...(typeof uti === "string" ? { tokenId: uti } : {}),
    };
    const recorded = (p: typeof check.principal): RecordedPrincipal | undefined =>
      p && { name: p.name, objectId: p.objectId, appId: p.appId, tenantId: p.tenantId, kind: p.kind };
    if (!check.ok) {
      return this.fail(
        authMode,
        check.reason,
        tokenLoginFailed(check.reason === "expired"),
        check.detail,
        recorded(check.principal),
        check.expiresAt,
      );
    }
    const principal = recorded(check.principal) as RecordedPrincipal;
    if (this.ctx.users.isRevoked(check.principal, this.tokenFacts.tokenIssuedAt)) {
      return this.fail(
        authMode,
        "revoked",
        tokenLoginFailed(false),
        "principal revoked",
        principal,
        check.expiresAt,
      );
    }
    const user = this.ctx.users.match(check.principal);
    if (!user) {
      return this.fail(
        authMode,
        "unknown-principal",
        tokenLoginFailed(false),
        `no database user for ${principal.kind} ${principal.name} (oid ${principal.objectId})`,
        principal,
        check.expiresAt,
      );
    }
    principal.databaseUser = user.name;
    return this.succeed(authMode, principal, user.name, check.expiresAt);
  }

  private succeed(
    authMode: AuthMode,
    principal: RecordedPrincipal,
    engineUserName: string,
    tokenExpiresAt: Date | undefined,
  ): LoginStep {
    const database = this.login7?.database;
    if (database && database.toLowerCase() !== this.ctx.database.toLowerCase()) {
      // tedious keeps the LAST message as its connect error (18456, which it does not retry) and emits
      // each one as `errorMessage`; 4060 alone would be retried by tedious as transient.
      const user = authMode === "sql" ? principal.name : TOKEN_PRINCIPAL;
      return this.fail(
        authMode,
        "wrong-database",
        [cannotOpenDatabase(database), loginFailed(user)],
        `asked for ${database}`,
        principal,
        tokenExpiresAt,
      );
    }
    // Transient failures are injected after authentication, so a token-credential client fetches a
    // token on every attempt, as it does against a database that is failing over.
    const injected = this.ctx.takeInjectedLoginError();
    if (injected) {
      return this.fail(
        authMode,
        "injected",
        injected,
        `injected error ${injected.number}`,
        principal,
        tokenExpiresAt,
      );
    }
    const login7 = this.login7;
    const requested = login7?.packetSize ?? DEFAULT_PACKET_SIZE;
    const packetSize =
      requested === 0 ? DEFAULT_PACKET_SIZE : Math.min(MAX_PACKET_SIZE, Math.max(MIN_PACKET_SIZE, requested));
    const loginAt = new Date();

    const writer = new ByteWriter();
    const info = (number: number, message: string) =>
      writeMessage(writer, { number, state: 1, severity: 0, message, serverName: this.ctx.serverName });
    writeEnvChangeText(writer, EnvChangeType.DATABASE, this.ctx.database, "master");
    info(5701, `Changed database context to '${this.ctx.database}'.`);
    writeEnvChangeBytes(writer, EnvChangeType.SQL_COLLATION, DEFAULT_COLLATION, Buffer.alloc(0));
    writeEnvChangeText(writer, EnvChangeType.LANGUAGE, LANGUAGE, "");
    info(5703, `Changed language setting to ${LANGUAGE}.`);
    writeLoginAck(writer, {
      tdsVersion: TDS_7_4,
      programName: "Microsoft SQL Server",
      version: { major: 12, minor: 0, build: 2000 },
    });
    writeEnvChangeText(writer, EnvChangeType.PACKET_SIZE, String(packetSize), String(DEFAULT_PACKET_SIZE));
    const features: Array<{ id: number; data: Uint8Array }> = [];
    // FEDAUTH ack without data: no nonce was exchanged. tedious insists on it for access tokens.
    if (authMode !== "sql") features.push({ id: FEDAUTH_FEATURE_ID, data: Buffer.alloc(0) });
    if (login7?.utf8Support) features.push({ id: UTF8_SUPPORT_FEATURE_ID, data: Buffer.from([0x01]) });
    writeFeatureExtAck(writer, features);
    writeDone(writer, { status: DoneStatus.FINAL });

    this.record({ authMode, ok: true, principal, tokenExpiresAt });
    return {
      kind: "success",
      payload: writer.toBuffer(),
      loggedIn: {
        principal,
        tokenIssuedAt: this.tokenFacts.tokenIssuedAt,
        engineUserName,
        authMode,
        tokenExpiresAt,
        packetSize,
        loginAt,
      },
    };
  }

  /** `errors`: the ERROR tokens in the order sent; the record keeps the first number (the reason). */
  private fail(
    authMode: AuthMode,
    reason: LoginFailureReason,
    errors: ServerError | readonly [ServerError, ...ServerError[]],
    detail?: string,
    principal?: RecordedPrincipal,
    tokenExpiresAt?: Date,
  ): LoginStep {
    const sent: readonly ServerError[] = "number" in errors ? [errors] : errors;
    const writer = new ByteWriter();
    for (const error of sent) writeServerError(writer, error, this.ctx.serverName);
    writeDone(writer, { status: DoneStatus.ERROR });
    this.record({
      authMode,
      ok: false,
      failure: reason,
      errorNumber: sent[0]?.number,
      detail,
      principal,
      tokenExpiresAt,
    });
    return { kind: "failure", payload: writer.toBuffer() };
  }

  private record(
    fields: Omit<
      LoginRecord,
      "at" | "sessionId" | "encryption" | "announcedSpn" | "tokenIssuedAt" | "tokenId"
    >,
  ): void {
    const record: LoginRecord = {
      at: new Date(),
      sessionId: this.sessionId,
      encryption: this.encryption,
      ...fields,
      ...this.tokenFacts,
    };
    if (fields.authMode === "fedauth-credential") record.announcedSpn = this.ctx.fedAuthInfo.spn;
    this.ctx.recordLogin(record);
  }
}
