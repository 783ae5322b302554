import type { EncryptionMode, LoginRecord } from "./records.js";

// Silent by default; pass `onEvent` to observe. Events carry ids, durations and reasons, never
// tokens or passwords.

export type SessionCloseReason = "client" | "killed" | "login-failed" | "protocol-error" | "server-closed";

/**
 * Why a statement was refused with 37396: after revalidate(), its session's token had expired or its
 * principal was revoked or dropped; or requireReauthentication() was called for its session.
 */
export type StatementRejectionReason = "token-expired" | "revoked" | "dropped" | "reauthentication-required";

export type StandInEvent =
  | { type: "listening"; host: string; port: number }
  | { type: "connection"; sessionId: number }
  | {
      type: "encrypted";
      sessionId: number;
      mode: EncryptionMode;
      protocol: string | null;
      alpn: string | false;
    }
  | { type: "login"; record: LoginRecord }
  | {
      type: "request";
      sessionId: number;
      kind: "batch" | "rpc" | "transaction";
      /** SQL text or procedure; truncated to 200 characters. */
      summary: string;
      durationMs: number;
      errorNumbers: number[];
    }
  | {
      type: "request-rejected";
      sessionId: number;
      errorNumber: number;
      reason: StatementRejectionReason;
    }
  | { type: "attention"; sessionId: number; canceledRequest: boolean }
  | { type: "session-closed"; sessionId: number; reason: SessionCloseReason }
  | { type: "protocol-error"; sessionId: number; message: string }
  | { type: "engine-started"; durationMs: number }
  | { type: "engine-fault"; sessionId: number; message: string };

export type StandInEventHandler = (event: StandInEvent) => void;
