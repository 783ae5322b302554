import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import { createTokenSource, type TokenSource, type TokenSourceOptions } from "@entra-sql/core";
import type { RegisteredApp } from "../../support/entra/index.js";
import type { StandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";

// Shared by the defect-*.test.ts files (mssql, Knex, TypeORM): an app identity of their own per test
// (so tests running side by side tell their sessions and logins apart at the stand-in), a credential
// that keeps every token the local Entra ID minted for it, what reached a session after the server
// refused one of its statements with 37396, and the token leak checks for printed objects.

let apps = 0;

/** A new app registration with a client secret, created as a database user (CREATE USER ... FROM EXTERNAL PROVIDER). */
export function registerApp(standIns: StandIns, label: string): RegisteredApp & { clientSecret: string } {
  const displayName = `defect-${label}-${++apps}`;
  const app = standIns.entra.registerApp({ displayName, clientSecret: true });
  standIns.sql.createUser({ name: displayName });
  if (app.clientSecret === undefined) throw new Error("registerApp: no client secret");
  return app as RegisteredApp & { clientSecret: string };
}

/** A token source for `app` over the local Entra ID (the service-principal preset). */
export function appTokenSource(
  standIns: StandIns,
  app: RegisteredApp & { clientSecret: string },
  extra: Omit<TokenSourceOptions, "credential" | "identityOptions"> = {},
): TokenSource {
  return createTokenSource({
    credential: {
      type: "service-principal",
      tenantId: standIns.entra.tenantId,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
    },
    identityOptions: standIns.entra.credentialOptions(),
    ...extra,
  });
}

/**
 * A token source for `app` whose credential keeps every token the IdP minted for it (`minted`), also
 * the ones a background refresh fetched and no login used.
 */
export function recordingTokenSource(
  standIns: StandIns,
  app: RegisteredApp & { clientSecret: string },
): { tokenSource: TokenSource; minted: string[] } {
  const minted: string[] = [];
  const inner = new ClientSecretCredential(
    standIns.entra.tenantId,
    app.clientId,
    app.clientSecret,
    standIns.entra.credentialOptions(),
  );
  const credential: TokenCredential = {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const token = await inner.getToken(scopes, options);
      if (token !== null) minted.push(token.token);
      return token;
    },
  };
  return { tokenSource: createTokenSource({ credential }), minted };
}

/** Token requests the IdP answered for `app` so far. */
export function identityRequestsOf(standIns: StandIns, app: RegisteredApp): number {
  return standIns.entra.counters.forIdentity(app.clientId).requests;
}

/** The `uti` (token id) and `iat` claims of a JWT, for comparing with the stand-in's login records. */
export function tokenClaims(token: string): { uti: string; iatMs: number } {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
    uti?: unknown;
    iat?: unknown;
  };
  if (typeof payload.uti !== "string" || typeof payload.iat !== "number") {
    throw new Error("tokenClaims: the token has no uti or iat");
  }
  return { uti: payload.uti, iatMs: payload.iat * 1000 };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passed; returns whether it held. */
export async function eventually(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The settled value of a promise that should reject: its error, or `undefined` when it resolved. */
export const failureOf = (promise: PromiseLike<unknown>): Promise<unknown> =>
  Promise.resolve(promise).then(
    () => undefined,
    (error: unknown) => error,
  );

/** The SQL stand-in's events, kept in order: pass `onEvent` as `startStandIns({ sql: { onEvent } })`. */
export function standInEvents(): { events: StandInEvent[]; onEvent: (event: StandInEvent) => void } {
  const events: StandInEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

type RequestEvent = Extract<StandInEvent, { type: "request" }>;

/**
 * The requests that reached session `sessionId` after the server refused one of its statements with
 * 37396 (a `request-rejected` event), and whether that refusal happened at all.
 */
export function requestsAfterRefusal(
  events: readonly StandInEvent[],
  sessionId: number,
): { refused: boolean; after: RequestEvent[] } {
  const refusal = events.findIndex((e) => e.type === "request-rejected" && e.sessionId === sessionId);
  if (refusal < 0) return { refused: false, after: [] };
  // The refused request's own `request` event follows its `request-rejected` event.
  const requests = events
    .slice(refusal + 1)
    .filter((e): e is RequestEvent => e.type === "request" && e.sessionId === sessionId);
  return { refused: true, after: requests.slice(1) };
}

/** A transaction-manager ROLLBACK request, or SQL text with a ROLLBACK statement. */
export const isRollback = (request: RequestEvent): boolean =>
  (request.kind === "transaction" && request.summary.startsWith("rollback")) ||
  /\bROLLBACK\b/i.test(request.summary);

/**
 * What `JSON.stringify` shows of `value` (enumerable own properties, `toJSON`), with repeated objects
 * left out instead of throwing on cycles, and Buffers, sockets' native handles and functions skipped.
 */
export function jsonView(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "bigint") return item.toString();
    if (typeof item !== "object" || item === null) return item;
    if (Buffer.isBuffer(item) || ArrayBuffer.isView(item)) return "[bytes]";
    if (seen.has(item)) return "[seen]";
    seen.add(item);
    return item;
  });
}

const PEM_BLOCK = /-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g;
const JWT_SHAPED = /eyJ[\w-]{5,}\.eyJ[\w-]{5,}/;

/**
 * Where `text` shows a token: any of `tokens` (whole, or its payload or signature part), a JWT-shaped
 * string, or "eyJ" (the start of every JWT's base64url JSON) outside PEM certificates, whose base64
 * may contain those three letters by chance. Empty when it shows none.
 */
export function tokenLeaks(text: string, tokens: readonly string[]): string[] {
  const leaks: string[] = [];
  tokens.forEach((token, i) => {
    const [, payload = "", signature = ""] = token.split(".");
    if (text.includes(token)) leaks.push(`token ${i}`);
    else if (payload !== "" && text.includes(payload)) leaks.push(`token ${i}: its payload`);
    else if (signature !== "" && text.includes(signature)) leaks.push(`token ${i}: its signature`);
  });
  if (JWT_SHAPED.test(text)) leaks.push("a JWT-shaped string (eyJ...eyJ...)");
  const outsidePem = text.replace(PEM_BLOCK, "");
  const at = outsidePem.indexOf("eyJ");
  if (at >= 0) leaks.push(`"eyJ" in: ...${outsidePem.slice(Math.max(0, at - 40), at + 3)}`);
  return leaks;
}
