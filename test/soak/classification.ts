import { errorGraph, read } from "@entra-sql/core/internal";
import type { FaultWindow } from "./fault-injectors.js";

// Why a statement failed, and whether the app could have avoided it. The soak fails only on AVOIDABLE
// failures: a fault the library promises to ride out (IdP 5xx/429/latency, a short IdP outage, 37396
// outside a transaction, 40613 at login, slow SQL) must not reach the app. Rules run in order; the first
// that matches names the cause. A rule says "unavoidable" only with the fault in force (its window,
// plus a grace for what was already in flight) AND the error the library names for it.

export interface FailedStatement {
  app: string;
  /** When the app sent it and when it failed, epoch ms. */
  startedMs: number;
  failedMs: number;
  error: unknown;
}

export interface Classification {
  cause: string;
  avoidable: boolean;
}

/** After an outage longer than a token's life: the time the token source's next try and a login take. */
export const OUTAGE_RECOVERY_GRACE_MS = 10_000;
/** After a refusal window ends: a login that was refused just before it closed, and its one retry. */
const REFUSAL_GRACE_MS = 3_000;
/** A kill reaches the statements in flight on the killed session at once; allow for the event loop. */
const KILL_GRACE_MS = 1_000;

interface Traits {
  names: Set<string>;
  numbers: Set<number>;
  text: string;
  /** SessionTokenExpiredError's `during`. */
  during: string | undefined;
}

function traitsOf(error: unknown): Traits {
  const traits: Traits = { names: new Set(), numbers: new Set(), text: "", during: undefined };
  const texts: string[] = [];
  for (const item of errorGraph(error)) {
    const name = read(item, "name");
    const number = read(item, "number");
    const message = read(item, "message");
    const code = read(item, "code");
    const during = read(item, "during");
    if (typeof name === "string") traits.names.add(name);
    if (typeof number === "number") traits.numbers.add(number);
    if (typeof message === "string") texts.push(message);
    if (typeof code === "string") texts.push(code);
    if (typeof during === "string") traits.during ??= during;
  }
  traits.text = texts.join("\n");
  if (typeof error === "string") traits.text += error;
  return traits;
}

const loginRefused = (t: Traits) =>
  t.names.has("TokenLoginRejectedError") || t.numbers.has(18456) || /\b18456\b|Login failed/i.test(t.text);
const sessionRefused37396 = (t: Traits) =>
  t.names.has("SessionTokenExpiredError") || t.numbers.has(37396) || /\b37396\b/.test(t.text);
const noToken = (t: Traits) =>
  t.names.has("TokenAcquisitionError") || /identity provider is unreachable or failing/.test(t.text);
const poolWaitTimedOut = (t: Traits) =>
  /Unable to start a transaction in the given time|Timeout acquiring a connection|ConnectionAcquireTimeoutError|operation timed out/i.test(
    t.text,
  );
const connectionLost = (t: Traits) =>
  /ECONNRESET|ESOCKET|EPIPE|socket hang up|Connection lost|connection (is )?closed|Connection ended|only be made in the LoggedIn state/i.test(
    t.text,
  );

export function classify(failure: FailedStatement, windows: readonly FaultWindow[]): Classification {
  const t = traitsOf(failure.error);
  const during = (kind: FaultWindow["kind"], graceMs: number, app?: string) =>
    windows.some(
      (w) =>
        w.kind === kind &&
        (app === undefined || w.app === app) &&
        w.startMs <= failure.failedMs &&
        failure.startedMs <= w.endMs + graceMs,
    );

  // The IdP was down for longer than a token lives: once the last token ran out no connection could log
  // in. Unavoidable when the error says no token could be had (core's TokenAcquisitionError).
  if (noToken(t) && during("idp-outage-long", OUTAGE_RECOVERY_GRACE_MS))
    return { cause: "no token: IdP down longer than a token's life", avoidable: false };
  // The same outage, seen through an ORM that waits for a pooled connection with its own clock: the wait
  // (Prisma's transaction maxWait, a pool's acquire timeout) ended before any token could be had, and the
  // ORM names its timeout instead of the token error underneath.
  if (poolWaitTimedOut(t) && during("idp-outage-long", OUTAGE_RECOVERY_GRACE_MS))
    return { cause: "pool wait timed out: IdP down longer than a token's life", avoidable: false };
  // The app's own principal was revoked at the server: its logins fail 18456 and its revalidated
  // sessions 37396 until it is restored. Nothing the app does can get it in.
  if (
    (loginRefused(t) || sessionRefused37396(t)) &&
    during("principal-revoked", REFUSAL_GRACE_MS, failure.app)
  )
    return { cause: "principal revoked (18456/37396)", avoidable: false };
  // The server refused every login (18456) for a while: a statement that needed a new connection then
  // failed, after the adapter's one retry with a fresh token was refused as well.
  if (loginRefused(t) && during("logins-refused-18456", REFUSAL_GRACE_MS))
    return { cause: "logins refused (18456)", avoidable: false };
  // 37396 inside a transaction: the server rolled it back with the session; the adapter must not run
  // part of a transaction again, so it closes the connection and names the error (DESIGN.md).
  if (t.names.has("SessionTokenExpiredError") && t.during === "transaction")
    return { cause: "37396 inside a transaction (named error)", avoidable: false };
  // 37396 on the BEGIN of a transaction whose connection the ORM had already taken (Kysely hands the
  // driver's connection to its Transaction): the adapter cannot swap it under the ORM, so it closes it
  // and names the error ("nothing of the transaction ran; run it again"). The kit's `during: "begin"`.
  if (t.names.has("SessionTokenExpiredError") && t.during === "begin")
    return { cause: "37396 on a transaction's BEGIN (named error)", avoidable: false };
  // The server killed the session while the statement ran on it (like KILL): the statement's outcome is
  // unknown to the app, which must not run it again on its own.
  if (connectionLost(t) && during("killed-sessions", KILL_GRACE_MS, failure.app))
    return { cause: "session killed while the statement ran", avoidable: false };

  // Everything else the library promises to ride out, so each is a broken promise; the cause says which.
  if (sessionRefused37396(t)) return { cause: "37396 outside a transaction", avoidable: true };
  if (noToken(t)) return { cause: "no token", avoidable: true };
  if (t.numbers.has(40613) || /\b40613\b/.test(t.text))
    return { cause: "transient login error 40613", avoidable: true };
  if (loginRefused(t)) return { cause: "login refused (18456)", avoidable: true };
  if (connectionLost(t)) return { cause: "connection lost", avoidable: true };
  return { cause: `other: ${firstLine(t.text)}`, avoidable: true };
}

const firstLine = (text: string) => (text.split("\n")[0] ?? "").slice(0, 80);
