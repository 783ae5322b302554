import { inspect } from "node:util";
import type { TokenSource } from "@entra-sql/core";
import { type EntraMssqlEvent, isSessionTokenExpiredError, SessionTokenExpiredError } from "@entra-sql/mssql";
import { expect } from "vitest";
import type { StandIns } from "../../support/stand-ins.js";
import { sleep } from "./helpers.js";

// Fixtures of the 37396 files (session-token-expired-retry and -held): how open sessions go stale, and
// the checks on what the caller gets. Sessions go stale without waiting: both clocks, the SQL
// stand-in's and the local Entra ID's, jump two hours past the one-hour tokens the pool logged in with,
// and the stand-in revalidates its sessions; their statements are refused with 37396 while the pool
// (whose clock did not move) still trusts them. A new login first sends the cached token, is refused
// "Token is expired", and logs in with a fresh one minted on the moved clock (the pool's login retry).

const CLOCK_JUMP_MS = 2 * 60 * 60 * 1000;

/** Makes every open session refuse its next statement with 37396; returns their ids. */
export function expireOpenSessions(standIns: StandIns): number[] {
  standIns.sql.clockOffsetMs += CLOCK_JUMP_MS;
  standIns.entra.settings.clockOffsetMs += CLOCK_JUMP_MS;
  const stale = standIns.sql.sessions.map((s) => s.id);
  expect(standIns.sql.revalidate()).toBe(stale.length);
  return stale;
}

/** Puts both clocks back (afterEach). */
export function resetClocks(standIns: StandIns): void {
  standIns.sql.clockOffsetMs = 0;
  standIns.entra.settings.clockOffsetMs = 0;
}

/** Polls until none of `ids` is a session at the stand-in; bounded, so a loaded machine only slows it. */
export async function sessionsGone(standIns: StandIns, ids: number[], deadlineMs = 5_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (!standIns.sql.sessions.some((s) => ids.includes(s.id))) return true;
    await sleep(20);
  }
  return false;
}

/** A token source that remembers every token it handed out, to prove none reaches an error. */
export function recording(source: TokenSource): { tokenSource: TokenSource; tokens: Set<string> } {
  const tokens = new Set<string>();
  const tokenSource = new Proxy(source, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property !== "getToken" && property !== "getTokenDetails") return value.bind(target);
      return async (...args: unknown[]) => {
        const result = (await value.apply(target, args)) as { token: string };
        tokens.add(result.token);
        return result;
      };
    },
  });
  return { tokenSource, tokens };
}

export function expectNoTokenIn(values: unknown[], tokens: Set<string>): void {
  expect(tokens.size).toBeGreaterThan(0);
  const text = values
    .map((v) => [inspect(v, { depth: 9, showHidden: true }), String(v), (v as Error).stack].join("\n"))
    .join("\n");
  for (const token of tokens) {
    for (const part of [token, ...token.split(".")])
      expect(text.includes(part), "a token leaked").toBe(false);
  }
}

export function expectNamed(
  error: unknown,
  during: SessionTokenExpiredError["during"],
): SessionTokenExpiredError {
  expect(error).toBeInstanceOf(SessionTokenExpiredError);
  expect(isSessionTokenExpiredError(error)).toBe(true);
  const named = error as SessionTokenExpiredError;
  expect(named.during).toBe(during);
  expect(named.number).toBe(37396);
  expect(named.message).toMatch(/error 37396/);
  expect(String((named.cause as Error).message)).toMatch(/access token is expired/);
  return named;
}

export const ofType = <T extends EntraMssqlEvent["type"]>(events: EntraMssqlEvent[], type: T) =>
  events.filter((e): e is Extract<EntraMssqlEvent, { type: T }> => e.type === type);
