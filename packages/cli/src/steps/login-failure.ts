import { createUserStatement, type TokenIdentity } from "@entra-sql/core";
import { LoginRefusedError } from "@entra-sql/driver-kit";
import type { ExitReason } from "../exit-codes.js";
import { failed, type StepOutcome } from "../step.js";

// What a refused login means and what fixes it, from the ERROR tokens the server sent (tedious emits
// each as `errorMessage`; Azure SQL ends every refused login with 18456, after the message that says
// why: 4060 wrong database, 40615 firewall, ...), else from the driver's error.

export interface ServerMessage {
  number: number;
  message: string;
}

const LOGIN_FAILED = 18456;

export interface LoginFailureContext {
  server: string;
  database: string;
  identity: TokenIdentity | undefined;
  roles: readonly string[];
}

export function loginFailure(
  messages: readonly ServerMessage[],
  error: unknown,
  context: LoginFailureContext,
): StepOutcome {
  const said = messages.map((m) => `server: ${m.number}: ${m.message}`);
  const why = messages.find((m) => m.number !== LOGIN_FAILED);
  if (why?.number === 4060) {
    return failed(
      "wrongDatabase",
      `database "${context.database}" cannot be opened (4060)`,
      said,
      `Check --database "${context.database}": it does not exist on ${context.server} (names are exact), or this identity cannot open it.`,
      { serverMessages: messages },
    );
  }
  if (why?.number === 40615) {
    const ip = /IP address '([^']+)'/.exec(why.message)?.[1];
    return failed(
      "firewall",
      `the server's firewall refused this client${ip ? ` (${ip})` : ""} (40615)`,
      said,
      `Add a firewall rule for ${ip ?? "this client's IP address"}: Azure portal > SQL server > Networking, or ` +
        `\`az sql server firewall-rule create --server SERVER --resource-group RG --name client --start-ip-address ${ip ?? "IP"} --end-ip-address ${ip ?? "IP"}\`.`,
      { serverMessages: messages, clientAddress: ip },
    );
  }
  if (why !== undefined) {
    const refused = new LoginRefusedError(
      { server: context.server, database: context.database, refusal: why, packageName: "entra-sql doctor" },
      { cause: error },
    );
    return failed(
      "loginFailed",
      `refused (${why.number}): ${why.message}`,
      said,
      refused.message.split("\n").pop(),
      {
        serverMessages: messages,
      },
    );
  }
  if (messages.some((m) => m.number === LOGIN_FAILED)) return tokenRefused(messages, said, context);
  return connectFailure(error, said);
}

function tokenRefused(
  messages: readonly ServerMessage[],
  said: string[],
  context: LoginFailureContext,
): StepOutcome {
  const expired = messages.some((m) => /Token is expired/i.test(m.message));
  if (expired) {
    return failed(
      "notDatabaseUser",
      "the server says the token is expired (18456)",
      said,
      "Check this machine's clock against the server's (the token was valid when this run got it), then run again.",
      { serverMessages: messages, expired: true },
    );
  }
  const identity = context.identity;
  if (identity === undefined) {
    return failed(
      "notDatabaseUser",
      "the token was refused (18456)",
      said,
      "Create a database user for this identity.",
      {
        serverMessages: messages,
      },
    );
  }
  const statement = createUserStatement(identity, { roles: context.roles });
  return failed(
    "notDatabaseUser",
    `the token was refused (18456): this identity is most likely not a user of database "${context.database}"`,
    [
      ...said,
      `run this in database "${context.database}" as its Microsoft Entra admin:`,
      ...statement.split("\n").map((l) => `  ${l}`),
    ],
    "Run the CREATE USER statement above (a Microsoft Entra admin of the server, connected to that database), then run doctor again.",
    { serverMessages: messages, createUser: statement },
  );
}

/** No ERROR token: the driver failed before or around the login (socket, TLS, timeout). */
function connectFailure(error: unknown, said: string[]): StepOutcome {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  const reason: ExitReason = /certificate|self[- ]signed|issuer/i.test(message)
    ? "tlsUntrusted"
    : code === "ESOCKET" || code === "ETIMEOUT"
      ? "tcp"
      : "loginFailed";
  return failed(
    reason,
    `the driver could not log in (${typeof code === "string" ? `${code}: ` : ""}${message})`,
    said,
    undefined,
    {
      code,
    },
  );
}
