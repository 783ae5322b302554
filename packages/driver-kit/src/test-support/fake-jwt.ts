import { inspect } from "node:util";
import { expect } from "vitest";

// JWT-shaped fake tokens for unit tests: header, payload and signature are distinct for every serial,
// and the payload carries the claims the kit reads (`iat`/`exp` for the token's lifetime; `oid`, `tid`,
// `iss`, `aud` for the principal a TokenLoginRejectedError names). Never signed, never sent anywhere.

export const SQL_SCOPE = "https://database.windows.net/.default";
export const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const APP_NAME = "orders-api";

/** The object ID of the principal of token `serial`. */
export const objectIdOf = (serial: number): string =>
  `00000000-0000-0000-0000-${String(serial).padStart(12, "0")}`;

const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A service principal's token; `iat`/`exp` are whole seconds of the epoch-ms times given. */
export function fakeJwt(claims: {
  serial: number;
  issuedAtTimestamp: number;
  expiresOnTimestamp: number;
  scope?: string;
}): string {
  const { serial, issuedAtTimestamp, expiresOnTimestamp, scope = SQL_SCOPE } = claims;
  return [
    part({ alg: "RS256", typ: "JWT", kid: `fake-key-${serial}` }),
    part({
      aud: scope.replace(/\/?\.default$/, "/"),
      iss: `https://sts.windows.net/${TENANT_ID}/`,
      tid: TENANT_ID,
      oid: objectIdOf(serial),
      appid: "cccccccc-3333-4444-5555-dddddddddddd",
      app_displayname: APP_NAME,
      idtyp: "app",
      iat: Math.floor(issuedAtTimestamp / 1000),
      exp: Math.floor(expiresOnTimestamp / 1000),
    }),
    Buffer.from(`fake-signature-${serial}-${"x".repeat(24)}`).toString("base64url"),
  ].join(".");
}

/** Everything a person or a log could see of `value`: inspect (all depths), JSON, and an error's message and stack. */
export function everythingShownOf(value: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(value) ?? "";
  } catch (error) {
    json = `(not JSON: ${String(error)})`;
  }
  const shown = [inspect(value, { depth: Number.POSITIVE_INFINITY }), json];
  if (value instanceof Error) shown.push(value.message, value.stack ?? "", String(value));
  return shown.join("\n");
}

/** Asserts that no segment of any of `tokens` shows in any of `values` (see everythingShownOf). */
export function expectNoTokenIn(values: readonly unknown[], tokens: readonly string[]): void {
  expect(tokens.length).toBeGreaterThan(0);
  const shown = values.map(everythingShownOf).join("\n");
  for (const token of tokens) {
    for (const segment of token.split(".")) expect(shown).not.toContain(segment);
  }
}
