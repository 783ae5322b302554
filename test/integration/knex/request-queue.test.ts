import { createEntraKnexConfig } from "@entra-sql/knex";
import knex from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";
import {
  type AnyKnex,
  demoAppTokenSource,
  KNEX_VERSIONS,
  knexConfig,
  modeOptions,
  SQL_SCOPE,
} from "./helpers.js";

// Statements run on the connection Knex acquired for them. Knex's mssql client shares one LIFO request
// queue between all connections: a statement queued behind a busy connection (a transaction's, or one
// pinned with `.connection()`) can be run by another connection as soon as that one is free, outside
// the transaction it belongs to. This package queues per connection. The control case runs plain Knex
// 3.3 the same way, so this file notices when Knex changes.

let standIns: StandIns;
/** Session each tagged statement ran on, from the stand-in's request events. */
const ranOn = new Map<string, number>();

beforeAll(async () => {
  standIns = await startStandIns({
    sql: {
      onEvent: (event: StandInEvent) => {
        if (event.type !== "request") return;
        const tag = /'(\w+-pinned-\d+)'/.exec(event.summary)?.[1];
        if (tag !== undefined) ranOn.set(tag, event.sessionId);
      },
    },
  });
  await standIns.sql.engine();
});

afterAll(async () => {
  await standIns?.close();
});

/**
 * Pins one connection and sends it 20 statements at once while 12 others go to the rest of the (warm)
 * pool; returns how many of the pinned statements ran on another session than the pinned connection's.
 */
async function strayStatements(db: AnyKnex, prefix: string): Promise<number> {
  const pinned = await db.client.acquireConnection();
  try {
    await Promise.all(Array.from({ length: 6 }, () => db.raw("select 1 as warm"))); // log the others in
    await db.raw(`select '${prefix}-pinned-0' as tag`).connection(pinned);
    const session = ranOn.get(`${prefix}-pinned-0`);
    expect(session).toBeDefined();
    const count = 20;
    await Promise.all([
      ...Array.from({ length: count }, (_, i) =>
        db.raw(`select '${prefix}-pinned-${i + 1}' as tag`).connection(pinned),
      ),
      ...Array.from({ length: 12 }, (_, i) => db.raw("select ? as n", [i])),
    ]);
    const sessions = Array.from({ length: count }, (_, i) => ranOn.get(`${prefix}-pinned-${i + 1}`));
    expect(sessions.every((s) => s !== undefined)).toBe(true);
    return sessions.filter((s) => s !== session).length;
  } finally {
    await db.client.releaseConnection(pinned);
  }
}

describe.each(KNEX_VERSIONS)("Knex $version", (v) => {
  it("runs every statement on the connection it was sent to, even when other connections are free first", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const db = v.create(
      createEntraKnexConfig(v.knex, knexConfig(standIns, { min: 0, max: 4 }), {
        tokenSource,
        ...modeOptions("inline"),
      }),
    );
    try {
      expect(await strayStatements(db, `entra${v.version.replace(".", "")}`)).toBe(0);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});

describe("control: plain Knex 3.3", () => {
  it("runs some statements sent to a busy connection on other connections (Knex's shared queue)", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const token = await tokenSource.getAccessToken(SQL_SCOPE);
    const base = knexConfig(standIns, { min: 0, max: 4 });
    const db = knex({
      client: "mssql",
      ...base,
      connection: { ...base.connection, type: "azure-active-directory-access-token", token },
    });
    try {
      expect(await strayStatements(db, "plain")).toBeGreaterThan(0);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});
