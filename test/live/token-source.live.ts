import { inspect } from "node:util";
import { createTokenSource, createUserStatement, describeToken, scopeForServer } from "@entra-sql/core";
import { afterAll, describe, expect, it } from "vitest";
import { readLiveSettings } from "./live-settings.js";

// The token source against the real identity chain: the configured preset gets a SQL token, the
// cache answers the second call, invalidate() fetches again, and nothing prints the token.

const settings = readLiveSettings();
const scope = settings.scope ?? scopeForServer(settings.server);
const tokenSource = createTokenSource({ credential: settings.credential, scope });

afterAll(() => tokenSource.close());

describe(`token source, credential "${settings.credential}"`, () => {
  it("gets a SQL token for the server's audience and says who the app connects as", async () => {
    const token = await tokenSource.getAccessToken();
    const identity = describeToken(token);
    expect(`${identity.audience.replace(/\/+$/, "")}/.default`).toBe(scope);
    expect(identity.expiresOn.getTime()).toBeGreaterThan(Date.now() + 60_000);
    process.stdout.write(`connecting as ${identity.kind} ${identity.objectId}; a DBA lets it in with:\n`);
    process.stdout.write(`${createUserStatement(identity)}\n`);
  });

  it("answers from its cache, and fetches a new token after invalidate()", async () => {
    const fetched: string[] = [];
    const off = tokenSource.on("token-acquired", (event) => fetched.push(event.type));
    try {
      const first = await tokenSource.getAccessToken();
      expect(await tokenSource.getAccessToken()).toBe(first);
      expect(fetched).toEqual([]);
      tokenSource.invalidate();
      await tokenSource.getAccessToken();
      expect(fetched).toEqual(["token-acquired"]);
    } finally {
      off();
    }
  });

  it("never shows the token in inspect() or JSON", async () => {
    const token = await tokenSource.getAccessToken();
    const shown = `${inspect(tokenSource, { depth: 10 })} ${JSON.stringify(tokenSource)}`;
    for (const part of token.split(".")) expect(shown).not.toContain(part);
  });
});
