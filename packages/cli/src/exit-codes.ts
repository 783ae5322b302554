// One exit code per failure class, so scripts and support tickets can tell them apart. The README's
// "Exit codes" table lists the same codes; `entra-sql --help` prints them.

export const EXIT_CODES = Object.freeze({
  /** Every check passed (warnings allowed). */
  ok: 0,
  /** A bug or an unexpected error in the CLI itself. */
  internal: 1,
  /** Unknown command, option or value; a required option missing. */
  usage: 2,
  /** No credential source is set up here (every source "unavailable"). */
  noCredential: 10,
  /** A credential source tried and Microsoft Entra ID (or the tool) refused it: wrong secret, unknown app, ... */
  credentialRefused: 11,
  /** The identity provider could not be reached or failed right now. */
  identityProviderUnreachable: 12,
  /** The server name does not resolve. */
  dns: 20,
  /** Nothing answers on the server's port (server down, wrong port, a network in between). */
  tcp: 21,
  /** The server's TLS certificate is not trusted here, names another host, or has expired. */
  tlsUntrusted: 22,
  /** TLS failed otherwise: no encryption offered, handshake refused, connection closed. */
  tls: 23,
  /** 18456: the token was refused, usually because the identity is not a user of the database. */
  notDatabaseUser: 30,
  /** 4060: the database does not exist (or this identity cannot open it). */
  wrongDatabase: 31,
  /** 40615: the server's firewall refused this client's IP address. */
  firewall: 32,
  /** Any other login error; the server's text is printed. */
  loginFailed: 40,
} as const);

export type ExitReason = keyof typeof EXIT_CODES;
export type ExitCode = (typeof EXIT_CODES)[ExitReason];

/** The reason for a code (`"ok"` for 0). */
export function exitReasonOf(code: number): ExitReason | undefined {
  return (Object.keys(EXIT_CODES) as ExitReason[]).find((reason) => EXIT_CODES[reason] === code);
}
