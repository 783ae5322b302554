import { isTokenCredential } from "./credential-spec.js";

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
const STARTS_LIKE_JWT = /^\s*eyJ[\w-]{4,}/;

/**
 * What a secret looks like inside free text, and what replaces it. Replacing is idempotent (a
 * replacement never matches again), so "does this text hold a secret" is "would redacting change it".
 */
const SECRET_SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  // PEM blocks (private keys, certificates), also a cut-off one.
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, "[redacted PEM]"],
  // Form, JSON and connection-string fields that carry secrets.
  [
    /\b(client_secret|client_assertion|access_token|refresh_token|id_token|password|pwd|x-identity-header)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi,
    "$1$2[redacted]",
  ],
  [JWT, "[redacted token]"],
  // Entra client secrets: three characters, a digit, "Q~", then the rest.
  [/\b[\w.-]{3}\dQ~[\w.~-]{20,}/g, REDACTED],
  [/\bBearer\s+[\w.~+/=-]{8,}/g, "Bearer [redacted]"],
];

const MAX_STRING = 80;
const MAX_ITEMS = 6;
const MAX_DEPTH = 2;

/**
 * Replaces anything that looks like a token or a secret inside free text (e.g. a third-party error
 * message): JWTs (also cut-off ones), PEM blocks, Entra client secrets, bearer tokens, and the values
 * of `client_secret=`, `access_token`, `password=`... fields.
 */
export function redactTokensIn(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_SHAPES) out = out.replace(pattern, replacement);
  return out;
}

/** Does `text` hold anything {@link redactTokensIn} would hide? */
export function looksSecret(text: string): boolean {
  return redactTokensIn(text) !== text;
}

/** Text chosen by someone else (e.g. a scope a server asked for), made safe to log: capped, no control characters, no tokens. */
export function displayText(text: string, maxLength = 200): string {
  const cleaned = redactTokensIn(text).replace(/\p{Cc}/gu, "?");
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength)}...` : cleaned;
}

/**
 * A short, secret-free rendering of any value, for error messages such as InvalidOptionError's (the
 * one value printer of the package): strings are quoted with any secret inside hidden (a string that
 * is a token is hidden whole), secret-named keys show `[redacted]`, a TokenCredential shows its
 * class name, and deep or long values are cut short.
 * @example printable({ type: "service-principal", clientSecret: "s3cr3t" })
 *   // '{ type: "service-principal", clientSecret: [redacted] }'
 */
export function printable(value: unknown): string {
  return renderSafely(value, 0);
}

/** A getter that throws spoils only its own part of the rendering. */
function renderSafely(value: unknown, depth: number): string {
  try {
    return render(value, depth);
  } catch {
    return "[unprintable value]";
  }
}

function render(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string": {
      if (STARTS_LIKE_JWT.test(value)) return `${REDACTED} (a string that looks like an access token)`;
      const shown = redactTokensIn(value);
      return shown.length > MAX_STRING
        ? `${JSON.stringify(shown.slice(0, MAX_STRING))}... (${value.length} characters)`
        : JSON.stringify(shown);
    }
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
    const items = value.slice(0, MAX_ITEMS).map((item) => renderSafely(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`... ${value.length - MAX_ITEMS} more`);
    return `[${items.join(", ")}]`;
  }
  const name = constructorName(value);
  if (isTokenCredential(value)) return `[TokenCredential ${name}]`;
  const prefix = name === "Object" || name === "" ? "" : `${name} `;
  if (depth >= MAX_DEPTH) return `${prefix}{...}`;
  const entries = Object.entries(value);
  const shown = entries
    .slice(0, MAX_ITEMS)
    .map(([key, item]) => `${key}: ${SECRET_KEY.test(key) ? REDACTED : renderSafely(item, depth + 1)}`);
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
