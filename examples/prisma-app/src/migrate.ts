import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PrismaClient } from "./generated/prisma/client.js";

// The schema, created at start from the checked-in SQL in prisma/migrations/<name>/migration.sql, sent
// through the driver adapter (so with an Entra token like every other statement). Each file is
// idempotent (every table guarded by IF OBJECT_ID(...) IS NULL), so it runs on every start.

/** prisma/migrations, from src/ or dist/ alike. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "prisma", "migrations");

const TABLES = ["projects", "tasks"] as const;

export interface MigrationResult {
  /** The migrations run, in order (their folder names). */
  applied: string[];
  /** The app's tables that did not exist before. */
  created: string[];
}

export async function applyMigrations(prisma: PrismaClient, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const before = await existingTables(prisma);
  const folders = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const folder of folders) {
    // One batch per file, as SQL Server tools send a script without GO separators.
    await prisma.$executeRawUnsafe(await readFile(join(dir, folder, "migration.sql"), "utf8"));
  }
  const after = await existingTables(prisma);
  const missing = TABLES.filter((table) => !after.includes(table));
  if (missing.length > 0) throw new Error(`the migrations did not create ${missing.join(", ")}`);
  return { applied: folders, created: after.filter((table) => !before.includes(table)) };
}

async function existingTables(prisma: PrismaClient): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ name: string }[]>`
    SELECT name FROM sys.tables WHERE name IN (N'projects', N'tasks')`;
  return rows.map((row) => row.name.toLowerCase()).sort();
}
