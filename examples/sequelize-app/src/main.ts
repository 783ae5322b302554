import type { EntraSequelizeEvent } from "@entra-sql/sequelize";
import type { Sequelize } from "sequelize";
import { readConfig } from "./config.js";
import { createDatabase } from "./database.js";
import { addTeamWithPlayer, playersPerTeam, playersWithTeams, seed } from "./library.js";
import { migrate } from "./migrate.js";
import { defineModels, Player, Team } from "./models.js";
import { type RunningStandIns, startStandIns } from "./stand-ins.js";

// The example app: migrate, seed, CRUD through the models and their association, a committed and a
// rolled-back transaction, an optional light load loop.
// `node dist/main.js [--duration <seconds>]`; configured by environment variables (see README).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function migrateAndSeed(sequelize: Sequelize): Promise<void> {
  const { ran, applied } = await migrate(sequelize);
  console.log(ran.length === 0 ? "migrations: already up to date" : `migrations: ran ${ran.join(", ")}`);
  console.log(`migrations applied: ${applied.join(", ")}`);
  await seed();
  console.log(`seeded: ${await Team.count()} teams, ${await Player.count()} players`);
}

async function walkthrough(sequelize: Sequelize): Promise<void> {
  // Create
  const lakeside = await addTeamWithPlayer("Lakeside Athletic", "Chris Novak", 10);
  console.log(`inserted team #${lakeside.id} Lakeside Athletic and its player Chris Novak`);

  // Read (a join through the association)
  const players = await playersWithTeams();
  console.log(`players with their teams (join): ${players.length}`);
  for (const player of players)
    console.log(`  #${player.shirtNumber}  ${player.name} (${player.team?.name})`);

  // Update
  const [updated] = await Team.update({ city: "Hilltop" }, { where: { name: "Hilltop United" } });
  console.log(`updated ${updated} team: Hilltop United's city`);

  // Delete
  const deleted = await Player.destroy({ where: { name: "Sam Okafor" } });
  console.log(`deleted ${deleted} player: Sam Okafor`);

  // A transaction that commits (a managed transaction: committed when the callback resolves)
  await sequelize.transaction(async (transaction) => {
    await addTeamWithPlayer("Northgate Wanderers", "Dana Ruiz", 7, transaction);
  });
  console.log("transaction committed: Northgate Wanderers and Dana Ruiz");

  // A transaction that rolls back (the callback throws)
  try {
    await sequelize.transaction(async (transaction) => {
      await Team.create({ name: "Nobody", city: null }, { transaction });
      throw new Error("changed my mind");
    });
  } catch (error) {
    const saved = await Team.count({ where: { name: "Nobody" } });
    console.log(`transaction rolled back: ${(error as Error).message} (Nobody saved: ${saved > 0})`);
  }

  const perTeam = await playersPerTeam();
  console.log(`players per team: ${perTeam.map((row) => `${row.name} ${row.players}`).join(", ")}`);
  console.log(`now ${await Team.count()} teams, ${await Player.count()} players`);
}

async function load(seconds: number, events: EntraSequelizeEvent[]): Promise<void> {
  console.log(`load: ${seconds} s of light queries`);
  const until = Date.now() + seconds * 1000;
  let queries = 0;
  let failures = 0;
  while (Date.now() < until) {
    const batch = await Promise.allSettled([Player.count(), playersWithTeams(5)]);
    queries += batch.length;
    for (const result of batch) {
      if (result.status === "rejected") {
        failures += 1;
        console.log(`load: query failed: ${(result.reason as Error).message}`);
      }
    }
    await sleep(200);
  }
  const opened = events.filter((e) => e.type === "connection-opened").length;
  const retired = events.filter((e) => e.type === "connection-retired").length;
  console.log(
    `load: ${queries} queries, ${failures} failed, ${opened} connections opened, ${retired} retired`,
  );
  if (failures > 0) throw new Error(`${failures} queries failed under load`);
}

async function main(): Promise<void> {
  const config = readConfig();
  let standIns: RunningStandIns | undefined;
  if (config.server === undefined) {
    console.log("AZURE_SQL_SERVER is not set: starting the local stand-ins");
    standIns = await startStandIns();
  }
  const events: EntraSequelizeEvent[] = [];
  try {
    // sequelize.close() also closes the token source withEntraTokens made.
    const sequelize = createDatabase(config, standIns, (event) => events.push(event));
    try {
      defineModels(sequelize);
      const target = standIns ? `${standIns.settings.sql.host}:${standIns.settings.sql.port}` : config.server;
      console.log(`connecting to ${target} (token mode ${config.tokenMode})`);
      await migrateAndSeed(sequelize);
      await walkthrough(sequelize);
      if (config.loadSeconds > 0) await load(config.loadSeconds, events);
    } finally {
      await sequelize.close();
    }
  } finally {
    await standIns?.stop();
  }
  console.log("done");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  },
);
