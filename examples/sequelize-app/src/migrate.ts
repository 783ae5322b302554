import { QueryTypes, type Sequelize } from "sequelize";
import * as teamsAndPlayers from "./migrations/20240101000000-teams-and-players.js";

// A minimal migration runner in sequelize-cli's format: each migration's `up(queryInterface)` runs once,
// in order, and its name is recorded in the SequelizeMeta table (so sequelize-cli or Umzug can take over).

const MIGRATIONS = [teamsAndPlayers];

export async function migrate(sequelize: Sequelize): Promise<{ ran: string[]; applied: string[] }> {
  await sequelize.query(
    "IF OBJECT_ID(N'SequelizeMeta', N'U') IS NULL CREATE TABLE [SequelizeMeta] ([name] NVARCHAR(255) NOT NULL PRIMARY KEY)",
  );
  const done = async () =>
    (
      await sequelize.query<{ name: string }>("SELECT [name] FROM [SequelizeMeta] ORDER BY [name]", {
        type: QueryTypes.SELECT,
      })
    ).map((row) => row.name);
  const before = new Set(await done());
  const ran: string[] = [];
  for (const migration of MIGRATIONS) {
    if (before.has(migration.name)) continue;
    await migration.up(sequelize.getQueryInterface());
    await sequelize.query("INSERT INTO [SequelizeMeta] ([name]) VALUES (:name)", {
      replacements: { name: migration.name },
    });
    ran.push(migration.name);
  }
  return { ran, applied: await done() };
}
