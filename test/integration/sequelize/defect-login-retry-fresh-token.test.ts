import { withEntraTokens } from "@entra-sql/sequelize";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { LoginHold } from "../../support/tds/index.js";
import {
  appTokenSource,
  eventually,
  identityRequestsOf,
  registerApp,
  tokenClaims,
} from "../mssql/defect-fixtures.js";
import {
  modeOptions,
  ofType,
  recorder,
  SQL_SCOPE,
  sequelizeOptions,
  sleep,
  versionModes,
} from "./helpers.js";

// The login retry after a refused token never reuses a token minted before the refusal:
// @entra-sql/sequelize with the oldest and the newest supported Sequelize (the same scenario as the mssql
// and Knex suites' file).
//
// The race: the cached token T1 is inside its refresh window, so the login of a new connection is
// handed T1 and starts a background refresh. That refresh caches T2 while the server is still
// deciding on T1's login. The server then refuses T1, and it would refuse T2 too: both were minted
// before the refusal (here: the principal is revoked for tokens issued before a time between T2 and
// the refusal). The retry must log in with T3, fetched after the refusal, not with the cached T2; and a
// burst of new connections refused with T1 together must cost ONE identity request, not one each.
//
// How the test orders it: 8 s tokens (refresh window from ~2 s), the IdP answers the background
// refresh after 1.5 s (so every login of the burst is handed T1), and the stand-in holds the logins
// (holdLogins) until T2 is cached; then the revocation starts at the next whole second (tokens carry
// `iat` in seconds), and the logins go on.

const TOKEN_LIFETIME_S = 8;
const BURST = 4;

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => standIns.entra.settings.reset());

afterAll(async () => {
  await standIns?.close();
});

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  it("a burst of logins refused with T1 retries with T3 fetched after the refusal (not the cached T2), one identity request", async () => {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
    const app = registerApp(standIns, `sequelize-retry-${v.version}-${tokenMode}`);
    const tokenSource = appTokenSource(standIns, app, { refreshWindowInMs: 60 * 60_000 });
    const refreshes: number[] = [];
    tokenSource.on("token-acquired", (event) => {
      if (event.reason === "refresh") refreshes.push(Date.now());
    });
    const { events, onEvent } = recorder();
    const db = withEntraTokens(v.create(sequelizeOptions(standIns, { min: 0, max: BURST })), {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent,
    });
    let hold: LoginHold | undefined;
    try {
      const t1 = await tokenSource.getTokenDetails(SQL_SCOPE);
      // No connection yet (pool min 0): each query of the burst needs a new one.
      const refreshFrom = Date.parse(tokenSource.toJSON().scopes[0]?.refreshFrom ?? "");
      expect(Number.isFinite(refreshFrom)).toBe(true);
      await sleep(Math.max(0, refreshFrom - Date.now() + 50));

      standIns.entra.faults.inject({
        kind: "latency",
        ms: 1500,
        endpoint: "token",
        clientId: app.clientId,
        times: 1,
      });
      hold = standIns.sql.holdLogins();
      const loginsBefore = standIns.sql.logins.length;
      const requestsBefore = identityRequestsOf(standIns, app);
      // sequelize-pool starts one login per waiting acquire while none has finished.
      const queries = Array.from({ length: BURST }, (_, i) =>
        db.query(`SELECT ${i} AS n`).then(([rows]) => rows as Array<{ n: number }>),
      );
      // Every new connection sent its token and waits at the server; the background refresh cached T2.
      const activeHold = hold;
      expect(await eventually(() => activeHold.waiting === BURST && refreshes.length === 1, 15_000)).toBe(
        true,
      );
      const t2 = await tokenSource.getTokenDetails(SQL_SCOPE);
      expect(t2.token).not.toBe(t1.token);

      const cutoff = (Math.floor(Date.now() / 1000) + 1) * 1000;
      standIns.sql.revokePrincipal(app.objectId, { tokensIssuedBefore: new Date(cutoff) });
      await sleep(Math.max(0, cutoff - Date.now() + 10)); // a token minted from now on is not refused
      const requestsAtRelease = identityRequestsOf(standIns, app);
      hold.release();

      const outcomes = await Promise.allSettled(queries);
      expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
      expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value[0]?.n : undefined))).toEqual([
        0, 1, 2, 3,
      ]);

      // A connection that logged in first may have run two of the queries: wait for the last of the
      // burst's logins too (the server records a login before the client has finished connecting).
      const retriedOpened = () =>
        events.filter((e) => e.type === "connection-opened" && e.attempt === 2).length;
      expect(await eventually(() => retriedOpened() === BURST, 10_000)).toBe(true);

      // The server's records: each new connection was refused once with T1, then logged in with one
      // token, T3: neither T1 nor T2, issued after the cutoff and not before the refusal's second.
      const logins = standIns.sql.logins.slice(loginsBefore);
      const refused = logins.filter((l) => !l.ok);
      const accepted = logins.filter((l) => l.ok);
      expect(refused).toHaveLength(BURST);
      for (const login of refused) {
        expect(login).toMatchObject({
          failure: "revoked",
          errorNumber: 18456,
          tokenId: tokenClaims(t1.token).uti,
        });
      }
      expect(accepted).toHaveLength(BURST);
      const firstRefusalAt = Math.min(...refused.map((l) => l.at.getTime()));
      const t3Ids = new Set(accepted.map((l) => l.tokenId));
      expect(t3Ids.size).toBe(1);
      expect(t3Ids.has(tokenClaims(t1.token).uti)).toBe(false);
      expect(t3Ids.has(tokenClaims(t2.token).uti)).toBe(false);
      for (const login of accepted) {
        const issuedAt = login.tokenIssuedAt?.getTime() ?? 0;
        expect(issuedAt).toBeGreaterThanOrEqual(cutoff);
        expect(issuedAt).toBeGreaterThanOrEqual(Math.floor(firstRefusalAt / 1000) * 1000); // iat: whole seconds
        expect(login.at.getTime()).toBeGreaterThan(firstRefusalAt);
      }

      // One identity request after the refusals (T3), answered after the first of them; two in all with
      // the background refresh (T2).
      expect(identityRequestsOf(standIns, app) - requestsAtRelease).toBe(1);
      expect(identityRequestsOf(standIns, app) - requestsBefore).toBe(2);
      const answeredAfterRefusal = standIns.entra.requestLog.filter(
        (entry) => entry.clientId === app.clientId && entry.time > firstRefusalAt,
      );
      expect(answeredAfterRefusal.map((entry) => [entry.endpoint, entry.status])).toEqual([["token", 200]]);

      expect(ofType(events, "login-retried")).toHaveLength(BURST);
      expect(ofType(events, "connection-opened").filter((e) => e.attempt === 2)).toHaveLength(BURST);
    } finally {
      hold?.release();
      standIns.sql.restorePrincipal(app.objectId);
      await db.close();
      tokenSource.close();
    }
  });
});
