import { it } from "vitest";
import { resolveConnectionOptions } from "/work/main/packages/driver-kit/src/connection-options.js";
import { fakeJwt } from "/work/main/packages/driver-kit/src/test-support/fake-jwt.js";
it("x", () => {
  const token = fakeJwt({ serial: 7, issuedAtTimestamp: 0, expiresOnTimestamp: 3_600_000 });
  for (const o of [{ scope: token }, { tokenMode: token }, { credential: token }]) {
    try { const r = resolveConnectionOptions(o, "p"); console.log("resolved", Object.keys(o), r.ownsTokenSource); r.tokenSource.close(); } catch (e) { console.log(String(e)); }
  }
});
