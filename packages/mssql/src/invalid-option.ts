import { describeOptionValue, InvalidOptionError } from "@entra-sql/core";

// core's InvalidOptionError (so `isInvalidOptionError` and `instanceof` work), with this package's
// name in front of the message: the option belongs to @entra-sql/mssql, not to core.

export const PACKAGE_NAME = "@entra-sql/mssql";

export function invalidOption(
  option: string,
  value: string,
  expected: string,
  cause?: unknown,
): InvalidOptionError {
  return new InvalidOptionError(option, value, expected, { packageName: PACKAGE_NAME, cause });
}

export const describeValue = describeOptionValue;
