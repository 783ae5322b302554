import { DEFAULT_SQL_SCOPE } from "@entra-sql/core";
import type { CommandName } from "./args.js";
import { EXIT_CODES } from "./exit-codes.js";

// The --help texts.

const CREDENTIAL_HELP = `  --credential LIST  where tokens come from: a preset, or a comma-separated chain tried in order
                     (default, environment, workload-identity, managed-identity, cli, developer-cli,
                     service-principal: reads AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
                     or AZURE_CLIENT_CERTIFICATE_PATH). Default: default
  --scope SCOPE      token scope. Default: from --server's host name (doctor), else ${DEFAULT_SQL_SCOPE}
  --json             print one JSON object instead of lines`;

const EXIT_CODE_LINES = Object.entries(EXIT_CODES)
  .map(([reason, code]) => `  ${String(code).padStart(2)}  ${reason}`)
  .join("\n");

const MAIN = `entra-sql: Microsoft Entra ID logins to Azure SQL / SQL Server, diagnosed.

Usage:
  entra-sql doctor --server HOST --database NAME [options]   why a login works or fails, step by step
  entra-sql token [--scope SCOPE] [--credential LIST] [--raw]  the claims of the token you would log in with
  entra-sql create-user --name NAME [--roles LIST]             the CREATE USER statement for a principal
  entra-sql COMMAND --help                                     the options of a command

Exit codes:
${EXIT_CODE_LINES}
`;

const HELP: Record<CommandName, string> = {
  doctor: `entra-sql doctor: check, in order, the credential sources, who the token says you are, DNS,
TCP, TLS, the login itself, and what the adapters would do with the token. One line per step with its
time and verdict; the exit code names the first failure (see \`entra-sql --help\`).

Usage: entra-sql doctor --server HOST --database NAME [options]

  --server HOST      the server's host name, e.g. myserver.database.windows.net (required)
  --database NAME    the database to log in to (required)
  --port N           TCP port. Default: 1433
  --token-mode MODE  inline (the token goes in LOGIN7) or token-credential (the driver asks for it
                     after the server names its SPN). Default: inline
  --roles LIST       roles for the suggested CREATE USER statement. Default: db_datareader,db_datawriter
  --timeout SECONDS  per network step and for the login. Default: 15
${CREDENTIAL_HELP}
`,
  token: `entra-sql token: get a token as the adapters would and print its claims (never the token itself,
unless --raw).

Usage: entra-sql token [options]

${CREDENTIAL_HELP}
  --raw              print the token itself on stdout (a warning goes to stderr); for piping only
`,
  "create-user": `entra-sql create-user: print the T-SQL that lets a Microsoft Entra principal into a database.
Run it in that database as a Microsoft Entra admin of the server.

Usage: entra-sql create-user --name NAME [--roles LIST] [--object-id GUID]

  --name NAME        a user's UPN (bob@contoso.com), or the display name of a group, app or managed identity (required)
  --roles LIST       comma-separated database roles; "none" for none. Default: db_datareader,db_datawriter
  --object-id GUID   create the user by object id (WITH OBJECT_ID), for display names that are not unique
`,
};

export function helpText(command?: CommandName): string {
  return command === undefined ? MAIN : HELP[command];
}
