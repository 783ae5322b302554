import { entraPrismaMssql } from "@entra-sql/prisma";
// The example app's compiled client (prisma generate, then tsc), its migration and its queries.
import { PrismaClient } from "../../examples/prisma-app/dist/generated/prisma/client.js";
import { applyMigrations } from "../../examples/prisma-app/dist/migrate.js";
import { addProject, addTask, openTasks } from "../../examples/prisma-app/dist/projects.js";
import { demoTokenSource } from "./demo-identity.js";
import type { Workload } from "./workload.js";

// The Prisma example's schema (projects 1-n tasks, created by its SQL migration through the adapter)
// through @entra-sql/prisma; each round: a count, a relation read, and an interactive $transaction that
// writes (create a task, delete it).

/**
 * Prisma's interactive transactions give up after 2 s waiting to start and 5 s running by default. The
 * stand-in runs one transaction at a time for all three apps (test/support/sql-engine: one PGlite
 * connection), which Azure SQL does not; so that a busy machine cannot fail a round on Prisma's clock.
 */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

export const prismaWorkload: Workload = {
  name: "prisma",
  async start({ standIns, identity, settings, observer }) {
    const { sql } = standIns;
    const adapter = entraPrismaMssql(
      {
        server: sql.host,
        port: sql.port,
        database: sql.database,
        options: sql.tlsOptions(),
        pool: { min: 0, max: 4 },
      },
      {
        tokenSource: demoTokenSource(standIns, identity),
        scope: settings.scope,
        maxAgeInMs: settings.maxAgeInMs,
        maxAgeJitterRatio: settings.maxAgeJitterRatio,
        tokenExpiryMarginInMs: settings.tokenExpiryMarginInMs,
        onEvent: observer.onEvent,
      },
    );
    const { tokenSource } = adapter;
    tokenSource.on("token-acquired", observer.onTokenAcquired);
    const prisma = new PrismaClient({ adapter, transactionOptions: TRANSACTION_OPTIONS });
    const close = async () => {
      await prisma.$disconnect(); // closes the adapter's pool
      tokenSource.close();
    };
    try {
      const { created } = await applyMigrations(prisma);
      const project = await addProject(prisma, "Demo", null, "keep the load going");
      observer.say(`Prisma migrated (${created.length > 0 ? created.join(", ") : "tables already there"})`);
      return {
        round: () => [
          prisma.task.count(),
          openTasks(prisma, 5),
          prisma.$transaction(async (tx) => {
            const task = await addTask(tx, project.id, "A draft");
            await tx.task.delete({ where: { id: task.id } });
          }),
        ],
        close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  },
};
