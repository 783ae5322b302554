import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sessionSettingsSql, supportObjectsSql } from "./bootstrap.js";

// PGlite's first boot runs initdb (2-6 s on our 2-core machines), and every test file that talks SQL
// boots its own engine. So the data directory with the support objects is built once, dumped to a
// file (a cache keyed by the PGlite version and the objects' SQL, like a compiler cache) and loaded by
// later boots (~0.4 s). A missing, stale or unreadable image just means building it again.

const CACHE_DIR = fileURLToPath(new URL("../../node_modules/.cache/entra-sql-engine/", import.meta.url));

/** PGlite's version, from its package.json (not in its `exports`, so found next to its entry point). */
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
}

function imageFile(): string {
  const key = createHash("sha256").update(`${pgliteVersion()}\n${supportObjectsSql()}`).digest("hex");
  return join(CACHE_DIR, `${key.slice(0, 16)}.tar`);
}

/** A PGlite with the support objects and this engine's session settings. */
export async function bootEngineDatabase(databaseName: string): Promise<PGlite> {
  const file = imageFile();
  const image = await readFile(file).catch(() => undefined);
  if (image !== undefined) {
    const pg = await PGlite.create({ loadDataDir: new Blob([image]) }).catch(async () => {
      await rm(file, { force: true }); // unreadable: build it again below
      return undefined;
    });
    if (pg !== undefined) return withSettings(pg, databaseName);
  }
  const pg = await PGlite.create();
  try {
    await pg.exec(sessionSettingsSql(databaseName) + supportObjectsSql());
    await saveImage(pg, file);
  } catch (error) {
    await pg.close();
    throw error;
  }
  return pg;
}

async function withSettings(pg: PGlite, databaseName: string): Promise<PGlite> {
  try {
    await pg.exec(sessionSettingsSql(databaseName));
    return pg;
  } catch (error) {
    await pg.close();
    throw error;
  }
}

/** Written to a unique file first and renamed: concurrent boots never read a half-written image. */
async function saveImage(pg: PGlite, file: string): Promise<void> {
  const dump = await pg.dumpDataDir("none");
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  try {
    await mkdir(CACHE_DIR, { recursive: true });
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, file);
  } catch {
    await rm(partial, { force: true }); // a cache that cannot be written costs speed, not correctness
  }
}
