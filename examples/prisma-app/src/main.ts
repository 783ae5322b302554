import type { EntraPrismaEvent } from "@entra-sql/prisma";
import { readConfig } from "./config.js";
import { createDatabase } from "./database.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { applyMigrations } from "./migrate.js";
import { addProject, addTask, counts, openTasks, tasksPerProject } from "./projects.js";
import { type RunningStandIns, startStandIns } from "./stand-ins.js";

// The example app: apply the SQL migration, CRUD with a relation through the generated client, an
// interactive $transaction that commits and one that rolls back, an optional light load loop.
// `node dist/main.js [--duration <seconds>]`; configured by environment variables (see README).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function migrate(prisma: PrismaClient): Promise<void> {
  const { applied, created } = await applyMigrations(prisma);
  console.log(`migrations applied: ${applied.join(", ")}`);
  console.log(created.length === 0 ? "tables: already there" : `tables created: ${created.join(", ")}`);
}

async function walkthrough(prisma: PrismaClient): Promise<void> {
  // Create, with the relation: a nested create, then a task connected to the project
  const launch = await addProject(prisma, "Launch", "ada@example.com", "write the docs");
  const ship = await addTask(prisma, launch.id, "ship it");
  console.log(
    `created project #${launch.id} ${launch.name} with tasks #${launch.tasks[0]?.id} and #${ship.id}`,
  );

  // Read, with the relation
  const loaded = await prisma.project.findUniqueOrThrow({
    where: { id: launch.id },
    include: { tasks: { orderBy: { id: "asc" } } },
  });
  console.log(`project #${loaded.id} has tasks: ${loaded.tasks.map((task) => task.title).join(", ")}`);
  const open = await openTasks(prisma, 5);
  console.log(`open tasks with their project: ${open.length}`);
  for (const task of open) console.log(`  #${task.id}  ${task.title} (${task.project.name})`);

  // Update
  const docs = loaded.tasks[0];
  if (!docs) throw new Error(`project #${launch.id} lost its tasks`);
  await prisma.task.update({ where: { id: docs.id }, data: { done: true } });
  await prisma.project.update({ where: { id: launch.id }, data: { owner: "ada.lovelace@example.com" } });
  console.log(`updated task #${docs.id} to done and project #${launch.id}'s owner`);

  // Delete
  await prisma.task.delete({ where: { id: ship.id } });
  console.log(`deleted task #${ship.id} ${ship.title}`);

  // An interactive transaction that commits
  const beta = await prisma.$transaction(async (tx) => {
    const project = await tx.project.create({ data: { name: "Beta", owner: null } });
    await addTask(tx, project.id, "invite testers");
    return project;
  });
  console.log(`transaction committed: project #${beta.id} Beta and its task`);

  // An interactive transaction that rolls back (the callback throws)
  try {
    await prisma.$transaction(async (tx) => {
      const project = await tx.project.create({ data: { name: "Nobody's", owner: null } });
      await addTask(tx, project.id, "never saved");
      throw new Error("changed my mind");
    });
  } catch (error) {
    const saved = await prisma.project.count({ where: { name: "Nobody's" } });
    console.log(`transaction rolled back: ${(error as Error).message} (Nobody's saved: ${saved > 0})`);
  }

  const perProject = await tasksPerProject(prisma);
  console.log(
    `tasks per project: ${perProject.map((project) => `${project.name} ${project._count.tasks}`).join(", ")}`,
  );
  const now = await counts(prisma);
  console.log(`now ${now.projects} projects, ${now.tasks} tasks`);
}

async function load(prisma: PrismaClient, seconds: number, events: EntraPrismaEvent[]): Promise<void> {
  console.log(`load: ${seconds} s of light queries`);
  const until = Date.now() + seconds * 1000;
  let queries = 0;
  let failures = 0;
  while (Date.now() < until) {
    const batch = await Promise.allSettled([prisma.task.count(), openTasks(prisma, 5)]);
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
  const events: EntraPrismaEvent[] = [];
  try {
    const { prisma, tokenSource } = createDatabase(config, standIns, (event) => events.push(event));
    try {
      const target = standIns ? `${standIns.settings.sql.host}:${standIns.settings.sql.port}` : config.server;
      console.log(`connecting to ${target} (token mode ${config.tokenMode})`);
      await migrate(prisma);
      await walkthrough(prisma);
      if (config.loadSeconds > 0) await load(prisma, config.loadSeconds, events);
    } finally {
      // $disconnect closes the adapter's pool; the token source is the app's to close.
      await prisma.$disconnect();
      tokenSource.close();
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
