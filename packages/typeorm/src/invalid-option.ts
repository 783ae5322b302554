import { InvalidOptionError } from "@entra-sql/core";

// core's InvalidOptionError (so `isInvalidOptionError` and `instanceof` work), with this package's
// name in front of the message: the option belongs to @entra-sql/typeorm.

export function invalidOption(
  option: string,
  value: string,
  expected: string,
  cause?: unknown,
): InvalidOptionError {
  const error = new InvalidOptionError(option, value, expected);
  error.message = `@entra-sql/typeorm: option "${option}" is ${value}; expected ${expected}.`;
  if (cause !== undefined)
    Object.defineProperty(error, "cause", { value: cause, configurable: true, writable: true });
  return error;
}

/** A short, secret-free rendering of a value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string")
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}
