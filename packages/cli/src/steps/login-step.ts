import type { TokenDetails, TokenIdentity, TokenSource } from "@entra-sql/core";
import type { TokenMode } from "@entra-sql/driver-kit";
import { Connection, type ConnectionConfiguration, Request } from "tedious";
import type { StepOutcome } from "../step.js";
import { loginFailure, type ServerMessage } from "./login-failure.js";

// Step 4: log in with the token, as the adapters do (tedious, `encrypt: true`, the certificate
// verified), then ask the server who we are: SUSER_SNAME(), USER_NAME(), DB_NAME() and the fixed
// database roles this session is a member of.

export const ROLES_CHECKED = ["db_owner", "db_datareader", "db_datawriter", "db_ddladmin"] as const;

const WHO_AM_I = `SELECT SUSER_SNAME() AS login_name, USER_NAME() AS user_name, DB_NAME() AS database_name, ${ROLES_CHECKED.map(
  (role) => `IS_ROLEMEMBER('${role}') AS ${role}`,
).join(", ")}`;

export interface LoginTarget {
  server: string;
  port: number;
  database: string;
  tokenMode: TokenMode;
  timeoutInMs: number;
  roles: readonly string[];
}

export interface LoginStepValue {
  outcome: StepOutcome;
}

export async function loginStep(
  target: LoginTarget,
  token: TokenDetails,
  tokenSource: TokenSource,
  identity: TokenIdentity | undefined,
): Promise<LoginStepValue> {
  const messages: ServerMessage[] = [];
  const config: ConnectionConfiguration = {
    server: target.server,
    authentication:
      target.tokenMode === "inline"
        ? { type: "azure-active-directory-access-token", options: { token: token.token } }
        : { type: "token-credential", options: { credential: tokenSource } },
    options: {
      port: target.port,
      database: target.database,
      encrypt: true,
      trustServerCertificate: false,
      connectTimeout: target.timeoutInMs,
      requestTimeout: target.timeoutInMs,
    },
  };
  const connection = new Connection(config);
  connection.on("errorMessage", (m) => messages.push({ number: m.number, message: m.message }));
  try {
    await new Promise<void>((resolve, reject) => {
      connection.on("connect", (error) => (error ? reject(error) : resolve()));
      connection.connect();
    });
  } catch (error) {
    connection.close();
    return {
      outcome: loginFailure(messages, error, {
        server: target.server,
        database: target.database,
        identity,
        roles: target.roles,
      }),
    };
  }
  try {
    const row = await whoAmI(connection);
    const roles = ROLES_CHECKED.filter((role) => row[role] === 1);
    const roleText = roles.length > 0 ? roles.join(", ") : `none of ${ROLES_CHECKED.join(", ")}`;
    return {
      outcome: {
        verdict: "ok",
        summary: `logged in as ${String(row.user_name)} in ${String(row.database_name)} (${target.tokenMode}); roles: ${roleText}`,
        details: [
          `SUSER_SNAME(): ${String(row.login_name)}`,
          `USER_NAME(): ${String(row.user_name)}`,
          `DB_NAME(): ${String(row.database_name)}`,
          ...ROLES_CHECKED.map(
            (role) => `IS_ROLEMEMBER('${role}'): ${row[role] === null ? "NULL" : String(row[role])}`,
          ),
        ],
        data: {
          loginName: row.login_name,
          userName: row.user_name,
          databaseName: row.database_name,
          roles,
          tokenMode: target.tokenMode,
        },
      },
    };
  } catch (error) {
    return {
      outcome: {
        verdict: "warn",
        summary: "logged in, but the who-am-I query failed",
        details: [error instanceof Error ? error.message : String(error)],
        data: { tokenMode: target.tokenMode },
      },
    };
  } finally {
    connection.close();
  }
}

function whoAmI(connection: Connection): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let row: Record<string, unknown> = {};
    const request = new Request(WHO_AM_I, (error) => (error ? reject(error) : resolve(row)));
    request.on("row", (columns) => {
      row = Object.fromEntries(
        columns.map((c: { metadata: { colName: string }; value: unknown }) => [c.metadata.colName, c.value]),
      );
    });
    connection.execSql(request);
  });
}
