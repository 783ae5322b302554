import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { TYPEORM_MSSQL_KEYS } from "./typeorm-mssql-keys.js";

// TYPEORM_MSSQL_KEYS against the declarations of the TypeORM versions the workspace tests with (the test
// workspace installs typeorm 1.x and, as typeorm-0.3, the oldest supported 0.3): the list must be exactly
// the union of their mssql options' top-level keys. tsc emits one member per line, indented by four
// spaces, so a member of the interface body is a line `    readonly name?:`.

const fromTestWorkspace = createRequire(join(__dirname, "../../../test/package.json"));

/** The interface's top-level member names, and the interfaces it extends. */
function membersOf(file: string, name: string): { keys: string[]; extends: string[] } {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(`export interface ${name} `);
  if (start < 0) throw new Error(`no interface ${name} in ${file}`);
  const header = text.slice(start, text.indexOf("{\n", start));
  const body = text.slice(text.indexOf("{\n", start) + 2, text.indexOf("\n}", start));
  return {
    keys: [...body.matchAll(/^ {4}(?:readonly )?([A-Za-z_$][\w$]*)\??:/gm)].map((m) => m[1] ?? ""),
    extends:
      header
        .match(/extends (.*)$/)?.[1]
        ?.trim()
        .split(/,\s*/) ?? [],
  };
}

function mssqlOptionKeys(packageName: string, main: string): Set<string> {
  const root = dirname(fromTestWorkspace.resolve(packageName));
  const options = membersOf(join(root, "driver/sqlserver", `${main}.d.ts`), main);
  // If TypeORM changes what the mssql options extend, this test must be taught the new interfaces.
  expect(options.extends).toEqual(["BaseDataSourceOptions", "SqlServerConnectionCredentialsOptions"]);
  const base = membersOf(join(root, "data-source/BaseDataSourceOptions.d.ts"), "BaseDataSourceOptions");
  const credentials = membersOf(
    join(root, "driver/sqlserver/SqlServerConnectionCredentialsOptions.d.ts"),
    "SqlServerConnectionCredentialsOptions",
  );
  return new Set([...options.keys, ...base.keys, ...credentials.keys]);
}

describe("TYPEORM_MSSQL_KEYS", () => {
  const current = mssqlOptionKeys("typeorm", "SqlServerDataSourceOptions");
  const oldest = mssqlOptionKeys("typeorm-0.3", "SqlServerConnectionOptions");

  it("reads enough of each installed TypeORM to be a fair check", () => {
    for (const keys of [current, oldest]) {
      for (const key of [
        "type",
        "host",
        "database",
        "entities",
        "pool",
        "options",
        "replication",
        "logger",
      ]) {
        expect(keys).toContain(key);
      }
    }
  });

  it("is exactly the union of the mssql options of typeorm 1.x and 0.3", () => {
    expect([...TYPEORM_MSSQL_KEYS].sort()).toEqual([...new Set([...current, ...oldest])].sort());
  });
});
