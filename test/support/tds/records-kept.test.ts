import type { ConnectionAuthentication } from "tedious";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegisteredUser } from "../entra/index.js";
import { type SqlStandIn, startSqlStandIn } from "./sql-stand-in.js";
import { FakeEngine } from "./test-helpers/fake-engine.js";
import { startTestIdentity, type TestIdentity } from "./test-helpers/identity.js";
import { close, connect } from "./test-helpers/tedious-client.js";

// `recordsKept` bounds what the stand-in remembers (login attempts, ended sessions), so a long run that
// reads the events instead (the soak) keeps a flat heap and a leak in the code under test shows.

describe("recordsKept", () => {
  let identity: TestIdentity;
  let standIn: SqlStandIn;
  let alice: RegisteredUser;

  beforeAll(async () => {
    identity = await startTestIdentity();
    alice = identity.entra.registerUser({ upn: "alice@contoso.test" });
    standIn = await startSqlStandIn({
      tokenVerification: identity.tokenVerification(),
      engine: new FakeEngine(),
      users: [{ name: "alice@contoso.test", objectId: alice.objectId }],
      recordsKept: 2,
    });
  });

  afterAll(async () => {
    await standIn?.close();
    await identity?.close();
  });

  const auth = (): ConnectionAuthentication => ({
    type: "azure-active-directory-access-token",
    options: { token: identity.entra.mintAccessToken({ principal: alice }).token },
  });

  it("keeps the newest login attempts and ended sessions only", async () => {
    const sessionIds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const connection = await connect(standIn.connectionConfig({ authentication: auth(), encrypt: true }));
      sessionIds.push(standIn.logins.at(-1)?.sessionId ?? -1);
      await close(connection);
    }
    await expect.poll(() => standIn.sessions.length).toBe(0);
    expect(standIn.logins.map((login) => login.sessionId)).toEqual(sessionIds.slice(1));
    expect(standIn.closedSessions.map((session) => session.id)).toEqual(sessionIds.slice(1));
    expect(standIn.counters.loginsOk).toBe(3);
  });

  it("refuses a count that is not a whole number >= 0, naming the option", async () => {
    await expect(startSqlStandIn({ recordsKept: -1 })).rejects.toThrow(
      /options\.recordsKept must be an integer >= 0, got -1/,
    );
    await expect(startSqlStandIn({ recordsKept: 1.5 })).rejects.toThrow(/options\.recordsKept/);
  });
});
