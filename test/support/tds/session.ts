import type { Socket } from "node:net";
import { ENCRYPTION_REQUIRED_TEXT } from "./azure-errors.js";
import type { StandInContext } from "./context.js";
import type { SessionCloseReason } from "./events.js";
import { parseFedAuthTokenMessage } from "./fedauth.js";
import { type LoggedIn, LoginHandler, type LoginStep } from "./login-handler.js";
import { parseLogin7 } from "./login7.js";
import { PacketType, type TdsMessage } from "./packet.js";
import { buildPreloginResponse, Encryption, parsePrelogin } from "./prelogin.js";
import type { ClosedSessionInfo, SessionInfo } from "./records.js";
import { delay, RequestDispatcher } from "./request-dispatcher.js";
import { SessionTransport } from "./session-transport.js";

// One client connection, from PRELOGIN to close: the pre-login state machine (PRELOGIN, TLS,
// LOGIN7, FEDAUTH token), then logged-in requests handed to the RequestDispatcher in arrival
// order. ATTENTION bypasses the queue: it must reach the request it cancels.

type State = "prelogin" | "tls-handshake" | "login" | "fedauth-token" | "logged-in" | "closed";

/** What PRELOGIN announces: Azure SQL Database reports version 12.0. */
const SERVER_VERSION = { major: 12, minor: 0, build: 2000, subBuild: 0 };

export class Session {
  private state: State = "prelogin";
  private readonly transport: SessionTransport;
  private queue: TdsMessage[] = [];
  private draining = false;
  private login: LoginHandler | undefined;
  private loggedIn: LoggedIn | undefined;
  private requests: RequestDispatcher | undefined;
  private revalidated = false;
  private reauthenticationRequired = false;
  private closeReason: SessionCloseReason = "client";
  /** The client's IP address (an IPv4-mapped IPv6 address as plain IPv4), for the firewall. */
  private readonly clientAddress: string;

  constructor(
    readonly id: number,
    socket: Socket,
    private readonly ctx: StandInContext,
    /** `info`: what the session was, when it had logged in. */
    private readonly onClosed: (session: Session, info: ClosedSessionInfo | undefined) => void,
  ) {
    this.clientAddress = (socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.)/, "");
    this.transport = new SessionTransport(socket, id, ctx.tls, {
      onMessage: (message) => this.enqueue(message),
      onFailure: (error) => this.fail(error),
      onEncrypted: (details) => ctx.emit({ type: "encrypted", sessionId: id, ...details }),
      onHandshakeDone: () => {
        this.state = "login";
      },
      onClose: () => void this.cleanup(),
    });
  }

  get isLoggedIn(): boolean {
    return this.state === "logged-in";
  }

  info(): SessionInfo | undefined {
    const loggedIn = this.loggedIn;
    if (!loggedIn || this.state !== "logged-in") return undefined;
    return {
      id: this.id,
      principal: { ...loggedIn.principal },
      authMode: loggedIn.authMode,
      encryption: this.transport.encryption,
      loginAt: loggedIn.loginAt,
      tokenExpiresAt: loggedIn.tokenExpiresAt,
      inTransaction: this.requests?.inTransaction ?? false,
      revalidated: this.revalidated,
    };
  }

  /** After this, every request first checks the login token's expiry and the principal's access. */
  revalidate(): void {
    this.revalidated = true;
  }

  /** After this, every request fails with 37396 (not executed), whatever its token's expiry. */
  requireReauthentication(): void {
    this.reauthenticationRequired = true;
  }

  /** Drops the connection abruptly, like KILL. */
  kill(reason: SessionCloseReason = "killed"): void {
    this.closeReason = reason;
    this.transport.reset();
  }

  private async cleanup(): Promise<void> {
    const info = this.info();
    this.state = "closed";
    this.queue = [];
    this.onClosed(this, info && { ...info, closedAt: new Date(), closeReason: this.closeReason });
    this.ctx.emit({ type: "session-closed", sessionId: this.id, reason: this.closeReason });
    await this.requests?.close();
  }

  /** Malformed input or a stand-in bug: the stream can no longer be trusted, so the connection goes. */
  private fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.ctx.emit({ type: "protocol-error", sessionId: this.id, message });
    this.kill("protocol-error");
  }

  // ---- message loop ----------------------------------------------------------------------------

  private enqueue(message: TdsMessage): void {
    if (message.type === PacketType.ATTENTION) {
      this.requests?.onAttention();
      return;
    }
    this.queue.push(message);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let message = this.queue.shift(); message; message = this.queue.shift()) {
        if (this.state === "closed") return;
        try {
          await this.handle(message);
        } catch (error) {
          this.fail(error);
          return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async handle(message: TdsMessage): Promise<void> {
    const expect = (type: number) => {
      if (message.type !== type) {
        throw new Error(
          `expected packet type 0x${type.toString(16)} in state ${this.state}, got 0x${message.type.toString(16)}`,
        );
      }
    };
    switch (this.state) {
      case "prelogin":
        expect(PacketType.PRELOGIN);
        return this.onPrelogin(message.payload);
      case "tls-handshake":
        expect(PacketType.PRELOGIN);
        this.transport.receiveHandshake(message.payload);
        return;
      case "login":
        expect(PacketType.LOGIN7);
        return this.onLogin7(message.payload);
      case "fedauth-token":
        expect(PacketType.FEDAUTH_TOKEN);
        return this.onFedAuthToken(message.payload);
      case "logged-in":
        return this.requests?.onRequest(message);
      case "closed":
        return;
    }
  }

  // ---- PRELOGIN --------------------------------------------------------------------------------

  private async onPrelogin(payload: Buffer): Promise<void> {
    const request = parsePrelogin(payload);
    await delay(this.ctx.latencyMs);
    const strict = this.transport.encryption === "strict";
    const clientEncrypts = request.encryption === Encryption.ON || request.encryption === Encryption.REQ;
    let answer: number;
    if (strict) {
      // Already inside TLS: the option is informational in TDS 8.0.
      answer = Encryption.NOT_SUP;
    } else if (clientEncrypts) {
      answer = Encryption.ON;
    } else if (request.encryption === Encryption.OFF) {
      // Login-only encryption (ENCRYPT_OFF) is not implemented: require full encryption instead,
      // which a client that offered ENCRYPT_OFF must then use.
      answer = Encryption.REQ;
    } else {
      answer = this.ctx.requireEncryption ? Encryption.REQ : Encryption.NOT_SUP;
    }
    this.transport.send(
      PacketType.REPLY,
      buildPreloginResponse({
        version: SERVER_VERSION,
        encryption: answer,
        fedAuthRequired: request.fedAuthRequired === undefined ? undefined : 1,
      }),
    );
    if (strict || answer === Encryption.NOT_SUP) {
      this.state = "login";
    } else if (request.encryption === Encryption.NOT_SUP || request.encryption === undefined) {
      // A client that cannot encrypt reads ENCRYPT_REQ and gives up ("Server requires encryption").
      this.ctx.emit({ type: "protocol-error", sessionId: this.id, message: ENCRYPTION_REQUIRED_TEXT });
      this.closeAfterFailure();
    } else {
      this.state = "tls-handshake";
      this.transport.startTlsInPrelogin();
    }
  }

  // ---- LOGIN7 / FEDAUTH ------------------------------------------------------------------------

  private async onLogin7(payload: Buffer): Promise<void> {
    const login7 = parseLogin7(payload);
    this.login = new LoginHandler(this.ctx, this.id, this.transport.encryption, this.clientAddress);
    await delay(this.ctx.latencyMs);
    this.applyLoginStep(await this.login.onLogin7(login7));
  }

  private async onFedAuthToken(payload: Buffer): Promise<void> {
    const token = parseFedAuthTokenMessage(payload);
    const login = this.login;
    if (!login) throw new Error("FEDAUTH_TOKEN before LOGIN7");
    await delay(this.ctx.latencyMs);
    this.applyLoginStep(await login.onFedAuthToken(token));
  }

  private applyLoginStep(step: LoginStep): void {
    if (this.state === "closed") return;
    this.transport.send(PacketType.REPLY, step.payload);
    switch (step.kind) {
      case "await-fedauth-token":
        this.state = "fedauth-token";
        return;
      case "failure":
        this.closeAfterFailure();
        return;
      case "success": {
        // The negotiated size applies to everything after the login response.
        this.transport.packetSize = step.loggedIn.packetSize;
        const loggedIn = step.loggedIn;
        this.loggedIn = loggedIn;
        const session = this;
        this.requests = new RequestDispatcher({
          sessionId: this.id,
          ctx: this.ctx,
          loggedIn,
          get revalidated() {
            return session.revalidated;
          },
          get reauthenticationRequired() {
            return session.reauthenticationRequired;
          },
          get closed() {
            return session.state === "closed";
          },
          send: (type, payload) => this.transport.send(type, payload),
        });
        this.state = "logged-in";
        return;
      }
    }
  }

  private closeAfterFailure(): void {
    this.closeReason = "login-failed";
    this.state = "closed";
    this.transport.closeSoon();
  }
}
