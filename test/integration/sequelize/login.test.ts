import { withEntraTokens } from "@entra-sql/sequelize";
import { DataTypes } from "sequelize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  demoAppTokenSource,
  identityRequests,
  modeOptions,
  ofType,
  recorder,
  sequelizeOptions,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// Logins through real Sequelize 6.29.0 and 6.37.8 (real tedious, real @azure/identity) against the
// stand-ins, both token modes: every login carries a valid token, one identity request serves the pool,
// models, raw queries and managed transactions (committed and rolled back) work.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  const table = `sq_${v.version.replaceAll(".", "")}_${tokenMode.replace("-", "_")}`;

  it("logs in with valid tokens, one identity request; models, raw queries and transactions work", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns)), {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent,
    });
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    try {
      const Item = sequelize.define(
        "Item",
        { id: { type: DataTypes.INTEGER, primaryKey: true }, name: DataTypes.STRING(50) },
        { tableName: table, timestamps: false },
      );
      await sequelize.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name NVARCHAR(50))`);
      await Item.create({ id: 1, name: "one" });
      const counts = await Promise.all(Array.from({ length: 6 }, () => Item.count()));
      expect(counts).toEqual(Array(6).fill(1));
      await sequelize.transaction(async (transaction) => {
        await Item.create({ id: 2, name: "two" }, { transaction });
      });
      await expect(
        sequelize.transaction(async (transaction) => {
          await Item.create({ id: 3, name: "three" }, { transaction });
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      const rows = await Item.findAll({ order: [["id", "ASC"]], raw: true });
      expect(rows).toEqual([
        { id: 1, name: "one" },
        { id: 2, name: "two" },
      ]);
      const [raw] = await sequelize.query("SELECT 1 AS one");
      expect(raw).toEqual([{ one: 1 }]);

      // sequelize-pool starts a login per waiting acquire; ones that finish after the acquires were served
      // join the pool idle. Wait for them, so the records and the events describe the same logins.
      await until(
        () => ofType(events, "connection-opened").length === standIns.sql.logins.length - loginsBefore,
        () => sleep(25),
        5_000,
      );
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.length).toBeGreaterThanOrEqual(1);
      for (const login of logins) {
        expect(login.ok).toBe(true);
        expect(login.tokenExpiresAt?.getTime() ?? 0).toBeGreaterThan(login.at.getTime());
      }
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
      const opened = ofType(events, "connection-opened");
      expect(opened.length).toBe(logins.length);
      expect(opened.every((e) => e.tokenMode === tokenMode)).toBe(true);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 30_000);
});
