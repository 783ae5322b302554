// Error numbers, severities and texts the stand-in answers with, as Azure SQL Database sends them.
// Clients key on the numbers (tedious retries 40613 & co. at login; 18456 is final), tests on the
// texts, so both stay verbatim.

export interface ServerError {
  number: number;
  state: number;
  severity: number;
  message: string;
}

/** How Azure SQL names a principal authenticated by a token in login failure messages. */
export const TOKEN_PRINCIPAL = "<token-identified principal>";

export function loginFailed(userName: string, suffix?: string): ServerError {
  return {
    number: 18456,
    state: 1,
    severity: 14,
    message: `Login failed for user '${userName}'.${suffix ? ` ${suffix}` : ""}`,
  };
}

export function tokenLoginFailed(expired: boolean): ServerError {
  return loginFailed(TOKEN_PRINCIPAL, expired ? "Token is expired." : undefined);
}

/** A statement on a session whose token expired (or whose principal lost access), after revalidation. */
export const ACCESS_TOKEN_EXPIRED: ServerError = {
  number: 37396,
  state: 1,
  severity: 16,
  message:
    "Query cannot be executed, access token is expired. Please login with a new access token and execute query again.",
};

/** A client address outside the server's firewall rules (Azure SQL's gateway refuses the login). */
export function firewallRefused(server: string, clientAddress: string): ServerError {
  return {
    number: 40615,
    state: 1,
    severity: 14,
    message:
      `Cannot open server '${server}' requested by the login. Client with IP address '${clientAddress}' is not allowed to access the server.  ` +
      "To enable access, use the Azure Management Portal or run sp_set_firewall_rule on the master database to create a firewall rule for this IP address or address range.  " +
      "It may take up to five minutes for this change to take effect.",
  };
}

export function cannotOpenDatabase(database: string): ServerError {
  return {
    number: 4060,
    state: 1,
    severity: 11,
    message: `Cannot open database "${database}" requested by the login. The login failed.`,
  };
}

/** Encryption refused (the client did not offer TLS and `requireEncryption` is on). */
export const ENCRYPTION_REQUIRED_TEXT =
  "The instance of SQL Server you attempted to connect to requires encryption but this machine does not support it.";

/** Transient errors clients retry at connect time (tedious: 4060, 10928, 10929, 40197, 40501, 40613). */
export function transientError(number: number, context: { database: string; server: string }): ServerError {
  const tracingId = "00000000-0000-0000-0000-000000000000";
  switch (number) {
    case 40613:
      return {
        number,
        state: 1,
        severity: 17,
        message: `Database '${context.database}' on server '${context.server}' is not currently available. Please retry the connection later. If the problem persists, contact customer support, and provide them the session tracing ID of '${tracingId}'.`,
      };
    case 40197:
      return {
        number,
        state: 1,
        severity: 17,
        message:
          "The service has encountered an error processing your request. Please try again. Error code 4815.",
      };
    case 40501:
      return {
        number,
        state: 1,
        severity: 20,
        message: `The service is currently busy. Retry the request after 10 seconds. Incident ID: ${tracingId}. Code: 0.`,
      };
    case 49918:
    case 49919:
    case 49920:
      return {
        number,
        state: 1,
        severity: 16,
        message: "Cannot process request. Too many operations in progress for subscription.",
      };
    default:
      return { number, state: 1, severity: 16, message: `Injected error ${number}.` };
  }
}

export function principalNotFound(name: string): ServerError {
  return {
    number: 33130,
    state: 1,
    severity: 16,
    message: `Principal '${name}' could not be found or this principal type is not supported.`,
  };
}

export function duplicateDisplayName(name: string): ServerError {
  return {
    number: 33131,
    state: 1,
    severity: 16,
    message: `Principal '${name}' has a duplicate display name. Make the display name unique in Azure Active Directory and execute this statement again.`,
  };
}

export function userAlreadyExists(name: string): ServerError {
  return {
    number: 15023,
    state: 1,
    severity: 16,
    message: `User, group, or role '${name}' already exists in the current database.`,
  };
}

export function cannotDropUser(name: string): ServerError {
  return {
    number: 15151,
    state: 1,
    severity: 16,
    message: `Cannot drop the user '${name}', because it does not exist or you do not have permission.`,
  };
}

/** The stand-in's own refusal: Azure's "not supported in this version" number with a plain text. */
export function notSupported(what: string): ServerError {
  return { number: 40517, state: 1, severity: 16, message: `SQL stand-in: ${what} is not supported.` };
}

/** An engine fault (a bug, not a SQL error): surfaced as an error so tests see it. */
export function engineFault(detail: string): ServerError {
  return { number: 50000, state: 1, severity: 16, message: `SQL stand-in: engine fault: ${detail}` };
}
