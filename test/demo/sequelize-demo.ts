import { entraTokenSourceOf, withEntraTokens } from "@entra-sql/sequelize";
import { Sequelize } from "sequelize";
// The example app's compiled models, migration, seed and queries.
import { addTeamWithPlayer, playersWithTeams, seed } from "../../examples/sequelize-app/dist/library.js";
import { migrate } from "../../examples/sequelize-app/dist/migrate.js";
import { defineModels, Player, Team } from "../../examples/sequelize-app/dist/models.js";
import { demoTokenSource } from "./demo-identity.js";
import type { Workload } from "./workload.js";

// The Sequelize example's schema (Team 1-n Player, created by its migration and filled by its seed)
// through @entra-sql/sequelize; each round: a count, a join, and a managed write transaction (a team
// and a player inserted, then deleted).

export const sequelizeWorkload: Workload = {
  name: "sequelize",
  async start({ standIns, identity, settings, observer }) {
    const { sql } = standIns;
    const sequelize = withEntraTokens(
      new Sequelize({
        dialect: "mssql",
        host: sql.host,
        port: sql.port,
        database: sql.database,
        dialectOptions: { options: sql.tlsOptions() },
        pool: { min: 0, max: 4 },
        logging: false,
      }),
      {
        tokenSource: demoTokenSource(standIns, identity),
        scope: settings.scope,
        maxAgeInMs: settings.maxAgeInMs,
        maxAgeJitterRatio: settings.maxAgeJitterRatio,
        tokenExpiryMarginInMs: settings.tokenExpiryMarginInMs,
        onEvent: observer.onEvent,
      },
    );
    entraTokenSourceOf(sequelize)?.on("token-acquired", observer.onTokenAcquired);
    try {
      defineModels(sequelize);
      const { ran } = await migrate(sequelize);
      await seed();
      observer.say(
        `Sequelize migrated (${ran.length > 0 ? ran.join(", ") : "tables already there"}) and seeded`,
      );
      return {
        round: () => [
          Player.count(),
          playersWithTeams(5),
          sequelize.transaction(async (transaction) => {
            const team = await addTeamWithPlayer("A draft team", "A draft player", 99, transaction);
            await Player.destroy({ where: { teamId: team.id }, transaction });
            await Team.destroy({ where: { id: team.id }, transaction });
          }),
        ],
        // Also closes the token source withEntraTokens made.
        close: () => sequelize.close(),
      };
    } catch (error) {
      await sequelize.close();
      throw error;
    }
  },
};
