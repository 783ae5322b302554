import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// `npm run demo` with Azure settings (AZURE_SQL_SERVER and AZURE_SQL_DATABASE, as the example apps read
// them): the demo runs the example apps themselves against that database instead of the stand-ins,
// side by side, each through its migration, CRUD and transactions and then `seconds` of light load with
// a short max age (ENTRA_SQL_MAX_AGE_SECONDS, default 10 here), so connections retire and log in again
// while queries run. Azure's tokens live an hour, so no rotation shows in a short run, and the server's
// own records are not ours to read: the verdict is the apps' own (a failed query or step exits 1).

const EXAMPLE_DIRS: Readonly<Record<string, string>> = {
  typeorm: "typeorm-app",
  knex: "knex-app",
  prisma: "prisma-app",
  sequelize: "sequelize-app",
  kysely: "kysely-app",
};

interface AppRun {
  app: string;
  code: number | null;
  /** The app's `load: N queries, F failed, ...` line, when it got that far. */
  loadLine: string | undefined;
}

function runApp(app: string, seconds: number, tag: string): Promise<AppRun> {
  const dir = EXAMPLE_DIRS[app];
  if (dir === undefined) throw new Error(`no example app for "${app}"`);
  const child = spawn(process.execPath, ["dist/main.js", "--duration", String(seconds)], {
    cwd: fileURLToPath(new URL(`../../examples/${dir}/`, import.meta.url)),
    env: { ...process.env, ENTRA_SQL_MAX_AGE_SECONDS: process.env.ENTRA_SQL_MAX_AGE_SECONDS || "10" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let loadLine: string | undefined;
  for (const output of [child.stdout, child.stderr]) {
    createInterface({ input: output }).on("line", (line) => {
      if (/^load: \d+ queries/.test(line)) loadLine = line;
      console.log(`${tag} ${line}`);
    });
  }
  return new Promise((resolve) => child.on("close", (code) => resolve({ app, code, loadLine })));
}

/** Runs the named apps against the configured database at the same time; the process exit code. */
export async function runDemoOnAzure(apps: readonly string[], seconds: number): Promise<number> {
  const width = Math.max(...apps.map((app) => app.length)) + 2;
  console.log(
    `AZURE_SQL_SERVER is set: running ${apps.map((a) => `examples/${EXAMPLE_DIRS[a]}`).join(", ")} ` +
      `against ${process.env.AZURE_SQL_SERVER} for ${seconds} s of load each`,
  );
  const runs = await Promise.all(apps.map((app) => runApp(app, seconds, `[${app}]`.padEnd(width))));
  console.log("\nsummary");
  for (const run of runs) {
    const verdict = run.code === 0 ? "ok" : `FAILED (exit ${run.code})`;
    console.log(`  ${run.app.padEnd(width)}${verdict}${run.loadLine ? `; ${run.loadLine}` : ""}`);
  }
  const failed = runs.filter((run) => run.code !== 0);
  console.log(failed.length === 0 ? `\nall apps ok (${apps.join(", ")})` : "\nAN APP FAILED");
  return failed.length === 0 ? 0 : 1;
}
