import { describeOptionValue, InvalidOptionError } from "@entra-sql/core";

// core's InvalidOptionError (so `isInvalidOptionError` and `instanceof` work), with this package's
// name in front of the message: the option belongs to @entra-sql/typeorm, not to core.

export function invalidOption(
  option: string,
  value: string,
  expected: string,
  cause?: unknown,
): InvalidOptionError {
  return new InvalidOptionError(option, value, expected, { packageName: "@entra-sql/typeorm", cause });
}

export const describeValue = describeOptionValue;
