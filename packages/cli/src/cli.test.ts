import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { EXIT_CODES, exitReasonOf } from "./exit-codes.js";
import { memoryWriter } from "./output.js";

// The dispatcher with a captured Writer: help, usage errors on stderr with exit 2, create-user.

async function cli(...argv: string[]) {
  const writer = memoryWriter();
  const code = await runCli(argv, { writer, env: {} });
  return { code, stdout: writer.stdout, stderr: writer.stderr };
}

describe("runCli", () => {
  it("--help lists the commands and every exit code; no command prints it on stderr with exit 2", async () => {
    const help = await cli("--help");
    expect(help.code).toBe(0);
    for (const [reason, code] of Object.entries(EXIT_CODES)) {
      expect(help.stdout).toMatch(new RegExp(`\\b${code}  ${reason}\\n`));
    }
    const none = await cli();
    expect(none).toMatchObject({ code: 2, stdout: "" });
    expect(none.stderr).toContain("entra-sql doctor --server HOST");
  });

  it("COMMAND --help", async () => {
    for (const command of ["doctor", "token", "create-user"]) {
      const help = await cli(command, "--help");
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`entra-sql ${command}`);
    }
  });

  it("an unknown command: exit 2, the closest command", async () => {
    expect(await cli("docter")).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'entra-sql: unknown command "docter".\nfix: did you mean doctor? use one of doctor, token, create-user; see `entra-sql --help`\n',
    });
  });

  it("doctor on a host whose cloud is unknown asks for --scope (exit 2)", async () => {
    const result = await cli("doctor", "--server", "sql.contoso.internal", "--database", "app");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot tell the token scope for --server "sql.contoso.internal"');
    expect(result.stderr).toContain("fix: add --scope https://database.windows.net/.default");
  });

  it("an unknown --credential preset names the value and core's list of presets (exit 2)", async () => {
    const result = await cli("token", "--credential", "az-cli");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('option --credential is "az-cli"; expected');
    expect(result.stderr).toContain('"managed-identity"');
  });

  it("service-principal without its variables: no credential (exit 10), naming what is missing", async () => {
    const result = await cli("token", "--credential", "service-principal");
    expect(result.code).toBe(10);
    expect(result.stdout).toContain(
      "missing: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)",
    );
  });

  it("create-user prints the SQL; --object-id creates by object id; roles none", async () => {
    const byName = await cli("create-user", "--name", "bob@contoso.com");
    expect(byName.code).toBe(0);
    expect(byName.stdout).toBe(
      "-- Run in the target database as a Microsoft Entra admin of the server.\n" +
        "CREATE USER [bob@contoso.com] FROM EXTERNAL PROVIDER;\n" +
        "ALTER USER [bob@contoso.com] WITH DEFAULT_SCHEMA=[dbo];\n" +
        "ALTER ROLE [db_datareader] ADD MEMBER [bob@contoso.com];\n" +
        "ALTER ROLE [db_datawriter] ADD MEMBER [bob@contoso.com];\n",
    );
    const byId = await cli(
      "create-user",
      "--name",
      "orders]api",
      "--object-id",
      "11111111-2222-3333-4444-555555555555",
      "--roles",
      "none",
    );
    expect(byId.stdout).toContain(
      "CREATE USER [orders]]api] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '11111111-2222-3333-4444-555555555555';",
    );
    expect(byId.stdout).not.toContain("ALTER ROLE");
  });

  it("exitReasonOf", () => {
    expect(exitReasonOf(32)).toBe("firewall");
    expect(exitReasonOf(99)).toBeUndefined();
  });
});
