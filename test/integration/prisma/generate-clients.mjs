// `pnpm run build` of the test workspace: generates the Prisma clients the tests import, offline.
// - Prisma 7.10 (this workspace's `prisma`): schema.prisma -> ./generated (TypeScript, "prisma-client").
// - Prisma 6.16.2 (test/compat/prisma6's own install): ../../compat/prisma6/schema.prisma -> its ./generated
//   ("prisma-client-js" with a custom output, which copies its runtime there: the client loads nothing
//   from @prisma/client at run time).
// `prisma generate` needs no engine with driver adapters, but the CLI looks for the schema engine binary
// first and would download it: PRISMA_SCHEMA_ENGINE_BINARY names an executable that exists (this Node;
// generate never runs it). Telemetry and update checks are off. Prints one line per client; the CLI's
// output only when it fails.
//
// Prisma 6's CLI takes @prisma/client (which it checks, and whose runtime it copies) from the project of
// the schema: the nearest package.json and its node_modules. test/compat/prisma6 has neither in place
// (pnpm installs that file: dependency into its virtual store), and walking up from it would find
// Prisma 7's @prisma/client in test/node_modules. So the schema is generated from a temporary project
// whose node_modules is the compat package's, its output pointed back at test/compat/prisma6/generated.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const requireFromTest = createRequire(join(here, "..", "..", "package.json"));

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  // test/compat/prisma6/schema.prisma's datasource url (Prisma 6 requires one; the adapter connects).
  // Unset, Prisma 6.16's generate downloads the Rust query engine library, which needs the network.
  ENTRA_SQL_PRISMA6_UNUSED_URL: "sqlserver://unused.invalid:1433",
};

/** The CLI entry of the `prisma` package that `require` resolves. */
function prismaCli(require) {
  const manifest = require.resolve("prisma/package.json");
  const { version, bin } = JSON.parse(readFileSync(manifest, "utf8"));
  return { version, cli: join(dirname(manifest), typeof bin === "string" ? bin : bin.prisma) };
}

function generate(label, { cli, version }, schema, cwd) {
  const started = Date.now();
  const run = spawnSync(process.execPath, [cli, "generate", "--schema", schema], {
    cwd,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0) {
    process.stderr.write(`${run.stdout ?? ""}${run.stderr ?? ""}`);
    const why = run.error ? run.error.message : `exit code ${run.status}, signal ${run.signal}`;
    throw new Error(`prisma ${version} generate of ${label} failed (${why})`);
  }
  console.log(`generated ${label} with prisma ${version} in ${Date.now() - started} ms`);
}

// Prisma 7: the workspace's own install.
generate("test/integration/prisma/generated", prismaCli(requireFromTest), join(here, "schema.prisma"), here);

// Prisma 6.16.2: test/compat/prisma6's install, through a temporary project.
const compatDir = join(here, "..", "..", "compat", "prisma6");
const installed = realpathSync(dirname(requireFromTest.resolve("@entra-sql/compat-prisma6/package.json")));
const requireFromCompat = createRequire(join(installed, "package.json"));
const prisma6 = prismaCli(requireFromCompat);
const project = mkdtempSync(join(tmpdir(), "entra-sql-prisma6-"));
try {
  // The compat package's dependencies are its siblings: <store>/node_modules/{prisma,@prisma/...}.
  symlinkSync(dirname(dirname(installed)), join(project, "node_modules"), "junction"); // "junction": Windows, no admin
  writeFileSync(join(project, "package.json"), '{ "name": "entra-sql-prisma6-generate", "private": true }\n');
  const schema = readFileSync(join(compatDir, "schema.prisma"), "utf8");
  const output = 'output     = "./generated"';
  if (!schema.includes(output)) throw new Error(`test/compat/prisma6/schema.prisma: expected ${output}`);
  writeFileSync(
    join(project, "schema.prisma"),
    schema.replace(output, `output     = ${JSON.stringify(join(compatDir, "generated"))}`),
  );
  generate("test/compat/prisma6/generated", prisma6, join(project, "schema.prisma"), project);
} finally {
  rmSync(project, { recursive: true, force: true });
}
