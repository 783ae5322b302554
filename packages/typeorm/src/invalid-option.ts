import { InvalidOptionError } from "@entra-sql/core";
// core's printer of option values, which every @entra-sql package's InvalidOptionError uses for `value`
// (it redacts what looks like a secret or a token). From core's entry point for the packages released in
// lockstep with it; the error itself is core's public class.
import { describeOptionValue } from "@entra-sql/core/internal";

// Options of this package fail with core's InvalidOptionError under this package's name.

export function invalidOption(
  option: string,
  value: string,
  expected: string,
  cause?: unknown,
): InvalidOptionError {
  return new InvalidOptionError(option, value, expected, { packageName: "@entra-sql/typeorm", cause });
}

export const describeValue = describeOptionValue;
