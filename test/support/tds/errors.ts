// Errors raised inside the stand-in. A TdsProtocolError means the client sent bytes that do not
// follow MS-TDS (or that the stand-in does not understand); the session reports it through
// `onEvent` and drops the connection, which is what SQL Server does with a malformed stream.

export class TdsProtocolError extends Error {
  override name = "TdsProtocolError";
}

export function isTdsProtocolError(error: unknown): error is TdsProtocolError {
  return error instanceof Error && error.name === "TdsProtocolError";
}
