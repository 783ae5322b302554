// Printing safely. Everything this package shows a person (error values, log lines, util.inspect,
// JSON) goes through these helpers, so a token or secret cannot slip into it by accident.

/** What a hidden value prints as. */
export const REDACTED = "[redacted]";

/** Node's `util.inspect` hook, by its registered name (no `node:util` import needed). */
export const inspectCustom: unique symbol = Symbol.for("nodejs.util.inspect.custom");

/** Keys whose values are never printed: client secrets, certificates, passwords, tokens, assertions. */
const SECRET_KEY = /secret|password|passphrase|pem$|token|assertion|apikey|privatekey/i;

/**
 * A JWT (every Entra access token is one): base64url JSON header `eyJ...`, then up to two more
 * dot-separated parts; also a cut-off one (a header alone still identifies a token).
 */
const JWT = /eyJ[\w-]{4,}(?:\.[\w-]*){0,2}/g;
const LOOKS_LIKE_JWT = /eyJ[\w-]{4,}/;

const MAX_STRING = 80;
const MAX_ITEMS = 6;
const MAX_DEPTH = 2;

/** Replaces anything that looks like an access token inside free text (e.g. a third-party error message). */
export function redactTokensIn(text: string): string {
  return text.replace(JWT, REDACTED);
}

/** Text chosen by someone else (e.g. a scope a server asked for), made safe to log: capped, no control characters, no tokens. */
export function displayText(text: string, maxLength = 200): string {
  const cleaned = redactTokensIn(text).replace(/\p{Cc}/gu, "?");
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength)}...` : cleaned;
}

/**
 * A short, secret-free rendering of any value, for error messages such as InvalidOptionError's:
 * strings are quoted (a token-looking string is hidden), secret-named keys show `[redacted]`,
 * a TokenCredential shows its class name, and deep or long values are cut short.
 * @example printable({ type: "service-principal", clientSecret: "s3cr3t" })
 *   // '{ type: "service-principal", clientSecret: [redacted] }'
 */
export function printable(value: unknown, depth = 0): string {
  try {
    return render(value, depth);
  } catch {
    return "[unprintable value]";
  }
}

function render(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      if (LOOKS_LIKE_JWT.test(value)) return `${REDACTED} (a string that looks like an access token)`;
      return value.length > MAX_STRING
        ? `${JSON.stringify(value.slice(0, MAX_STRING))}... (${value.length} characters)`
        : JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return `[function ${value.name || "(anonymous)"}]`;
    case "object":
      break;
    default:
      return String(value);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) return "[...]";
    const items = value.slice(0, MAX_ITEMS).map((item) => printable(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`... ${value.length - MAX_ITEMS} more`);
    return `[${items.join(", ")}]`;
  }
  const name = constructorName(value);
  if (typeof (value as { getToken?: unknown }).getToken === "function") return `[TokenCredential ${name}]`;
  const prefix = name === "Object" || name === "" ? "" : `${name} `;
  if (depth >= MAX_DEPTH) return `${prefix}{...}`;
  const entries = Object.entries(value);
  const shown = entries
    .slice(0, MAX_ITEMS)
    .map(([key, item]) => `${key}: ${SECRET_KEY.test(key) ? REDACTED : printable(item, depth + 1)}`);
  if (entries.length > MAX_ITEMS) shown.push(`... ${entries.length - MAX_ITEMS} more`);
  return shown.length === 0 ? `${prefix}{}` : `${prefix}{ ${shown.join(", ")} }`;
}

function constructorName(value: object): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null) return "";
  const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" ? ctor.name : "";
}

/**
 * Gives an object holding a `token` a redacted view for `JSON.stringify` and `util.inspect`
 * (non-enumerable, so spreading or destructuring the object still works as usual).
 */
export function withRedactedView<T extends { token: string }>(value: T): T {
  const view = (): Record<string, unknown> => ({ ...value, token: REDACTED });
  Object.defineProperty(value, "toJSON", { value: view, enumerable: false });
  Object.defineProperty(value, inspectCustom, { value: view, enumerable: false });
  return value;
}

/** A timestamp as ISO 8601, or a readable stand-in when it is not a valid time. */
export function isoTime(timestamp: number | undefined): string | undefined {
  if (timestamp === undefined) return undefined;
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? `invalid time (${String(timestamp)})` : date.toISOString();
}

/** A duration for people: "750 ms", "42 s", "45 min", "24 h". */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${round1(ms / 1_000)} s`;
  if (abs < 3_600_000) return `${round1(ms / 60_000)} min`;
  return `${round1(ms / 3_600_000)} h`;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
