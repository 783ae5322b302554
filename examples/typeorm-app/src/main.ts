import "reflect-metadata";
import type { EntraMssqlEvent } from "@entra-sql/mssql";
import type { DataSource } from "typeorm";
import { readConfig } from "./config.js";
import { createDataSource } from "./data-source.js";
import { Customer, Order } from "./entities.js";
import { type RunningStandIns, startStandIns } from "./stand-ins.js";

// The example app: migrate, CRUD through repositories, a transaction, an optional light load loop.
// `node dist/main.js [--duration <seconds>]`; configured by environment variables (see README).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function demo(dataSource: DataSource): Promise<void> {
  const customers = dataSource.getRepository(Customer);
  const orders = dataSource.getRepository(Order);

  const ada = await customers.save(customers.create({ name: "Ada", email: "ada@example.com" }));
  console.log(`created customer #${ada.id} ${ada.name}`);
  await orders.save([
    orders.create({ product: "keyboard", quantity: 1, customer: ada }),
    orders.create({ product: "cable", quantity: 3, customer: ada }),
  ]);
  const loaded = await customers.findOneOrFail({ where: { id: ada.id }, relations: { orders: true } });
  console.log(`customer #${loaded.id} has ${loaded.orders.length} orders`);

  await customers.update({ id: ada.id }, { email: "ada.lovelace@example.com" });
  const cable = await orders.findOneByOrFail({ product: "cable", customer: { id: ada.id } });
  cable.quantity = 2;
  await orders.save(cable);
  console.log(`updated customer #${ada.id}'s email and order #${cable.id}'s quantity to ${cable.quantity}`);

  await dataSource.transaction(async (manager) => {
    const grace = await manager.save(manager.create(Customer, { name: "Grace", email: null }));
    await manager.save(manager.create(Order, { product: "compiler", quantity: 1, customer: grace }));
  });
  console.log("transaction committed: Grace and her order");
  try {
    await dataSource.transaction(async (manager) => {
      await manager.save(manager.create(Customer, { name: "Nobody", email: null }));
      throw new Error("changed my mind");
    });
  } catch (error) {
    console.log(`transaction rolled back: ${(error as Error).message}`);
  }

  const removed = await orders.delete({ id: cable.id });
  console.log(`deleted order #${cable.id} (${removed.affected ?? 0} row)`);
  console.log(`now ${await customers.count()} customers, ${await orders.count()} orders`);
}

async function load(dataSource: DataSource, seconds: number, events: EntraMssqlEvent[]): Promise<void> {
  console.log(`load: ${seconds} s of light queries`);
  const customers = dataSource.getRepository(Customer);
  const until = Date.now() + seconds * 1000;
  let queries = 0;
  let failures = 0;
  while (Date.now() < until) {
    const batch = await Promise.allSettled([customers.count(), customers.find({ take: 5 })]);
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
  const events: EntraMssqlEvent[] = [];
  const { dataSource, tokenSource } = createDataSource(config, standIns, (event) => events.push(event));
  try {
    const target = standIns ? `${standIns.settings.sql.host}:${standIns.settings.sql.port}` : config.server;
    console.log(`connecting to ${target} (token mode ${config.tokenMode})`);
    await dataSource.initialize();
    const migrations = await dataSource.query('SELECT "name" FROM "migrations"');
    console.log(`migrations applied: ${(migrations as { name: string }[]).map((m) => m.name).join(", ")}`);
    await demo(dataSource);
    if (config.loadSeconds > 0) await load(dataSource, config.loadSeconds, events);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    tokenSource.close();
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
