// What the server says before it refuses a login, and what fixes it. A login that fails for a reason
// other than the token still ends with 18456 "Login failed" (Azure SQL sends, e.g., 4060 "Cannot open
// database" and then 18456); tedious keeps only the last message as the connect error but emits every
// ERROR token as `errorMessage`. The lifecycle collects those during a login (token-login.ts): the
// first message that is not 18456 names the real problem, and a new token would not cure it.
// Sources: Microsoft Learn, "Troubleshooting connectivity issues and other errors with Azure SQL
// Database" and "Azure SQL Database and Azure Synapse Analytics connectivity architecture".

/** One ERROR token the server sent during a login (tedious' `errorMessage` payload). */
export interface ServerMessage {
  number: number;
  message: string;
}

/** 18456: the generic "Login failed" that ends every refused login. */
export const LOGIN_FAILED = 18456;

const ADVICE: ReadonlyMap<number, string> = new Map([
  [
    4060,
    'Check the database name (the "database" setting): it does not exist on this server, or this identity has no user in it.',
  ],
  [
    40615,
    "The server's firewall refused this client's IP address (named in the message): add a firewall rule for it " +
      "(Azure portal > SQL server > Networking, or `az sql server firewall-rule create`), or connect from an allowed network.",
  ],
  [
    40532,
    'Check the server name (the "server" setting): the gateway does not know it. Use the full host name, e.g. "myserver.database.windows.net".',
  ],
  [
    47073,
    "Public network access to this server is denied: connect through its private endpoint, or allow public access with a firewall rule.",
  ],
  [
    40914,
    "The server's virtual network rules refused this client: add a VNet rule for the client's subnet, or a firewall rule.",
  ],
  [
    18470,
    "The login of this identity is disabled on the server: an admin enables it (ALTER LOGIN ... ENABLE).",
  ],
  [
    40613,
    "The database is not available right now (failover, maintenance or scaling): retry the connection in a few seconds.",
  ],
]);

/** What to try for a login refused with `number`; a generic line for numbers without their own advice. */
export function adviceFor(number: number): string {
  return (
    ADVICE.get(number) ??
    "A new token would not help: the server refused the login for the reason above (SQL Server error " +
      `${number}); fix that and connect again.`
  );
}

/**
 * The message that says why a login failed when it was not the token: the first one that is not 18456.
 * `undefined` when the server sent only 18456 (a token refusal: expired, revoked, no database user).
 */
export function refusalOtherThanToken(messages: readonly ServerMessage[]): ServerMessage | undefined {
  return messages.find((message) => message.number !== LOGIN_FAILED);
}

/** A tedious `errorMessage` payload as a ServerMessage, or `undefined` when it is not one. */
export function serverMessageOf(token: unknown): ServerMessage | undefined {
  if (typeof token !== "object" || token === null) return undefined;
  const { number, message } = token as { number?: unknown; message?: unknown };
  if (typeof number !== "number" || typeof message !== "string") return undefined;
  return { number, message };
}
