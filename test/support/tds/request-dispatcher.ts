import type { SqlSession } from "../sql-engine/types.js";
import { ACCESS_TOKEN_EXPIRED, notSupported, type ServerError } from "./azure-errors.js";
import { ByteWriter } from "./byte-writer.js";
import type { StandInContext } from "./context.js";
import type { StatementRejectionReason } from "./events.js";
import type { LoggedIn } from "./login-handler.js";
import { writeServerError } from "./outcome-encoder.js";
import { PacketStatus, PacketType, type TdsMessage } from "./packet.js";
import { type ExecutionResult, RequestExecutor } from "./request-executor.js";
import { parseSqlBatch, parseTransactionManager } from "./requests.js";
import { parseRpc } from "./rpc.js";
import { DoneStatus, EnvChangeType, TokenType, writeDone, writeEnvChangeBytes } from "./token-writer.js";
import { UnsupportedFeatureError } from "./unsupported.js";

// Requests of a logged-in session, one at a time: latency, revalidation (37396), RESETCONNECTION,
// then the executor; and ATTENTION, which cancels the request in progress. tedious expects the
// reply of a canceled request and the attention acknowledgement (DONE with ATTN) as two messages.

export interface DispatcherHost {
  readonly sessionId: number;
  readonly ctx: StandInContext;
  readonly loggedIn: LoggedIn;
  /** Set by revalidate(): every request first checks the token and the principal. */
  readonly revalidated: boolean;
  /** Set by requireReauthentication(): every request fails with 37396. */
  readonly reauthenticationRequired: boolean;
  readonly closed: boolean;
  send(type: number, payload: Buffer): void;
}

interface RunningRequest {
  abort: AbortController;
  attention: boolean;
}

export class RequestDispatcher {
  private running: RunningRequest | undefined;
  private engineSessionPromise: Promise<SqlSession | undefined> | undefined;
  private openedEngineSession: SqlSession | undefined;
  private readonly executor: RequestExecutor;

  constructor(private readonly host: DispatcherHost) {
    this.executor = new RequestExecutor({
      sessionId: host.sessionId,
      ctx: host.ctx,
      engineSession: () => this.engineSession(),
      hasEngineSession: () => this.engineSessionPromise !== undefined,
    });
  }

  get inTransaction(): boolean {
    return this.executor.inTransaction;
  }

  /** The connection is gone: cancel what runs and release the engine session. */
  async close(): Promise<void> {
    this.running?.abort.abort();
    const engineSession = this.openedEngineSession;
    this.openedEngineSession = undefined;
    if (engineSession) await engineSession.close().catch(() => undefined);
  }

  onAttention(): void {
    const running = this.running;
    this.host.ctx.emit({
      type: "attention",
      sessionId: this.host.sessionId,
      canceledRequest: running !== undefined,
    });
    if (running) {
      running.attention = true;
      running.abort.abort();
      return;
    }
    // Nothing in progress (the reply already went out): acknowledge on its own.
    this.sendAttentionAck();
  }

  async onRequest(message: TdsMessage): Promise<void> {
    if (message.ignored) {
      // The client gave up on this message before finishing it; it reads one reply for it.
      this.sendAttentionAck();
      return;
    }
    const running: RunningRequest = { abort: new AbortController(), attention: false };
    this.running = running;
    const started = performance.now();
    try {
      await delay(this.host.ctx.latencyMs, running.abort.signal);
      if (running.attention) return this.finishCanceled();

      const resetRequested =
        (message.status & (PacketStatus.RESET_CONNECTION | PacketStatus.RESET_CONNECTION_SKIP_TRAN)) !== 0;
      const prefix = resetRequested ? await this.resetConnection(message.status) : undefined;
      const rejection = this.revalidationFailure();
      const { kind, summary, result } = await this.execute(message, rejection, prefix);

      if (result.executed) this.host.ctx.counters.statementsExecuted++;
      this.host.ctx.emit({
        type: "request",
        sessionId: this.host.sessionId,
        kind,
        summary: summary.slice(0, 200),
        durationMs: performance.now() - started,
        errorNumbers: result.errorNumbers,
      });
      // The engine cannot be interrupted: a request canceled while it ran did run; its reply is
      // replaced by the cancellation sequence.
      if (running.attention) return this.finishCanceled();
      this.host.send(PacketType.REPLY, result.payload);
    } finally {
      this.running = undefined;
    }
  }

  private async execute(
    message: TdsMessage,
    rejection: ServerError | undefined,
    prefix: ((writer: ByteWriter) => void) | undefined,
  ): Promise<{ kind: "batch" | "rpc" | "transaction"; summary: string; result: ExecutionResult }> {
    switch (message.type) {
      case PacketType.SQL_BATCH: {
        const { text } = parseSqlBatch(message.payload);
        const result = rejection
          ? reject(this.host, rejection, false, prefix)
          : await this.executor.batch(text, prefix);
        return { kind: "batch", summary: text, result };
      }
      case PacketType.RPC: {
        let request: ReturnType<typeof parseRpc>;
        try {
          request = parseRpc(message.payload);
        } catch (error) {
          if (!(error instanceof UnsupportedFeatureError)) throw error;
          return {
            kind: "rpc",
            summary: "rpc",
            result: reject(this.host, notSupported(error.message), true, prefix),
          };
        }
        let summary = "name" in request.procedure ? request.procedure.name : request.procedure.system;
        const statement = request.parameters[0]?.value;
        if ("system" in request.procedure && typeof statement === "string") summary += `: ${statement}`;
        const result = rejection
          ? reject(this.host, rejection, true, prefix)
          : await this.executor.rpc(request, prefix);
        return { kind: "rpc", summary, result };
      }
      case PacketType.TRANSACTION_MANAGER: {
        const request = parseTransactionManager(message.payload);
        const result = rejection
          ? reject(this.host, rejection, false, prefix)
          : await this.executor.transaction(request, prefix);
        return { kind: "transaction", summary: `${request.kind} transaction`, result };
      }
      default:
        throw new Error(`unexpected packet type 0x${message.type.toString(16)} after login`);
    }
  }

  private engineSession(): Promise<SqlSession | undefined> {
    this.engineSessionPromise ??= this.host.ctx.engine().then(
      (engine) => {
        if (!engine || this.host.closed) return undefined;
        const principalName = this.host.loggedIn.engineUserName;
        const session = engine.openSession({
          principalName,
          roles: () => this.host.ctx.users.get(principalName)?.roles ?? [],
        });
        this.openedEngineSession = session;
        return session;
      },
      (error: unknown) => {
        this.engineSessionPromise = undefined;
        throw error;
      },
    );
    return this.engineSessionPromise;
  }

  /**
   * RESETCONNECTION (what sp_reset_connection does): a fresh engine session, no prepared handles,
   * and any open transaction rolled back, unless the client asked to keep it (RESETCONNECTIONSKIPTRAN:
   * then only prepared handles go). Returns the tokens that open the reply: the rollback ENVCHANGE if
   * a transaction ended, then the reset acknowledgement.
   */
  private async resetConnection(status: number): Promise<(writer: ByteWriter) => void> {
    const rollback = new ByteWriter();
    if ((status & PacketStatus.RESET_CONNECTION_SKIP_TRAN) !== 0) {
      this.executor.forgetPrepared();
    } else {
      const engineSession = this.openedEngineSession;
      this.openedEngineSession = undefined;
      this.engineSessionPromise = undefined;
      this.executor.reset(rollback);
      if (engineSession) await engineSession.close();
    }
    const prefix = rollback.toBuffer();
    return (writer) => {
      writer.bytes(prefix);
      writeEnvChangeBytes(writer, EnvChangeType.RESET_CONNECTION_ACK, Buffer.alloc(0), Buffer.alloc(0));
    };
  }

  /**
   * After revalidate(): 37396 when the login token expired or the principal lost access. After
   * requireReauthentication(): 37396 always.
   */
  private revalidationFailure(): ServerError | undefined {
    const { ctx, loggedIn } = this.host;
    if (loggedIn.authMode === "sql") return undefined;
    if (this.host.reauthenticationRequired) return this.refused("reauthentication-required");
    if (!this.host.revalidated) return undefined;
    const { principal, tokenExpiresAt } = loggedIn;
    const skewMs = (ctx.verifier?.clockSkewSeconds ?? 0) * 1000;
    let reason: "token-expired" | "revoked" | "dropped" | undefined;
    if (tokenExpiresAt && ctx.nowMs() - skewMs >= tokenExpiresAt.getTime()) reason = "token-expired";
    else if (ctx.users.isRevokedObjectId(principal.objectId, loggedIn.tokenIssuedAt)) reason = "revoked";
    else if (principal.databaseUser && !ctx.users.get(principal.databaseUser)) reason = "dropped";
    if (!reason) return undefined;
    return this.refused(reason);
  }

  /** Counts and reports a statement refused with 37396; the caller answers with the error. */
  private refused(reason: StatementRejectionReason): ServerError {
    this.host.ctx.counters.statementsRejected++;
    this.host.ctx.emit({
      type: "request-rejected",
      sessionId: this.host.sessionId,
      errorNumber: ACCESS_TOKEN_EXPIRED.number,
      reason,
    });
    return ACCESS_TOKEN_EXPIRED;
  }

  private sendAttentionAck(): void {
    const writer = new ByteWriter();
    writeDone(writer, { status: DoneStatus.ATTENTION });
    this.host.send(PacketType.REPLY, writer.toBuffer());
  }

  /** Reply to a canceled request (a bare final DONE), then the attention acknowledgement. */
  private finishCanceled(): void {
    const writer = new ByteWriter();
    writeDone(writer, { status: DoneStatus.FINAL });
    this.host.send(PacketType.REPLY, writer.toBuffer());
    this.sendAttentionAck();
  }
}

function reject(
  host: DispatcherHost,
  error: ServerError,
  inProc: boolean,
  prefix?: (writer: ByteWriter) => void,
): ExecutionResult {
  const writer = new ByteWriter();
  prefix?.(writer);
  writeServerError(writer, error, host.ctx.serverName);
  writeDone(writer, { type: inProc ? TokenType.DONEPROC : TokenType.DONE, status: DoneStatus.ERROR });
  return { payload: writer.toBuffer(), errorNumbers: [error.number], executed: false };
}

/** The configured latency; resolves early (without error) when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
