import { entraDataSourceOptions } from "@entra-sql/typeorm";
import { DataSource } from "typeorm";
// The example app's compiled entities and migration (tsc emits the decorator metadata TypeORM needs).
import { Customer, Order } from "../../examples/typeorm-app/dist/entities.js";
import { Init1700000000000 } from "../../examples/typeorm-app/dist/migrations/1700000000000-init.js";
import { demoTokenSource } from "./demo-identity.js";
import type { Workload } from "./workload.js";

// The TypeORM example's schema (customers 1-n orders, created by its migration) through
// @entra-sql/typeorm; each round: a count, a page, and a transaction.

export const typeormWorkload: Workload = {
  name: "typeorm",
  async start({ standIns, identity, settings, observer }) {
    const { sql } = standIns;
    const options = entraDataSourceOptions({
      tokenSource: demoTokenSource(standIns, identity),
      scope: settings.scope,
      maxAgeInMs: settings.maxAgeInMs,
      maxAgeJitterRatio: settings.maxAgeJitterRatio,
      tokenExpiryMarginInMs: settings.tokenExpiryMarginInMs,
      onEvent: observer.onEvent,
      host: sql.host,
      port: sql.port,
      database: sql.database,
      options: sql.tlsOptions(),
      pool: { min: 0, max: 4 },
      entities: [Customer, Order],
      migrations: [Init1700000000000],
      migrationsRun: true,
      synchronize: false,
    });
    const { tokenSource } = options.driver;
    tokenSource.on("token-acquired", observer.onTokenAcquired);
    const dataSource = new DataSource(options);
    const close = async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      tokenSource.close();
    };
    try {
      await dataSource.initialize();
      const customers = dataSource.getRepository(Customer);
      await customers.save(customers.create({ name: "Ada", email: "ada@example.test" }));
      observer.say("TypeORM initialized; migration applied (customers, orders)");
      return {
        round: () => [
          customers.count(),
          customers.find({ take: 5 }),
          dataSource.transaction(async (manager) => manager.getRepository(Customer).count()),
        ],
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  },
};
