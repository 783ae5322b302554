import { parseArgs } from "node:util";
import { serverHost } from "@entra-sql/core/internal";
import type { TokenMode } from "@entra-sql/driver-kit";
import { badValue, closest, fromParseArgsError, missingOption, quoted, UsageError } from "./usage-error.js";

// The command lines of each command, parsed with node:util parseArgs (strict: unknown options and
// stray arguments are errors naming them) and checked value by value.

export const COMMANDS = ["doctor", "token", "create-user"] as const;
export type CommandName = (typeof COMMANDS)[number];

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

const CREDENTIAL_OPTIONS = {
  credential: { type: "string" },
  scope: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

const DOCTOR_OPTIONS = {
  ...CREDENTIAL_OPTIONS,
  server: { type: "string" },
  database: { type: "string" },
  port: { type: "string" },
  "token-mode": { type: "string" },
  roles: { type: "string" },
  timeout: { type: "string" },
} as const satisfies OptionSpec;

const TOKEN_OPTIONS = { ...CREDENTIAL_OPTIONS, raw: { type: "boolean" } } as const satisfies OptionSpec;

const CREATE_USER_OPTIONS = {
  name: { type: "string" },
  roles: { type: "string" },
  "object-id": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

/** Options shared by the commands that get a token. */
export interface CredentialArgs {
  /** The `credential` option of the token source: a preset name, or a list of them. */
  credential: string[];
  /** `--scope`, when given. */
  scope: string | undefined;
  json: boolean;
}

export interface DoctorArgs extends CredentialArgs {
  command: "doctor";
  /** The host name, as `serverHost` reads it. */
  server: string;
  database: string;
  port: number;
  tokenMode: TokenMode;
  /** Roles for the suggested CREATE USER statement. */
  roles: string[];
  timeoutInMs: number;
}

export interface TokenArgs extends CredentialArgs {
  command: "token";
  raw: boolean;
}

export interface CreateUserArgs {
  command: "create-user";
  name: string;
  roles: string[];
  objectId: string | undefined;
}

export type ParsedArgs = DoctorArgs | TokenArgs | CreateUserArgs | { command: CommandName; help: true };

export const DEFAULT_ROLES = ["db_datareader", "db_datawriter"];
const DEFAULT_TIMEOUT_IN_MS = 15_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parse<T extends OptionSpec>(command: CommandName, argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw fromParseArgsError(command, error, Object.keys(options));
  }
}

/** Parses the arguments after the command name. */
export function parseCommandArgs(command: CommandName, argv: readonly string[]): ParsedArgs {
  switch (command) {
    case "doctor":
      return parseDoctor(argv);
    case "token":
      return parseToken(argv);
    case "create-user":
      return parseCreateUser(argv);
  }
}

function parseDoctor(argv: readonly string[]): DoctorArgs | { command: "doctor"; help: true } {
  const values = parse("doctor", argv, DOCTOR_OPTIONS);
  if (values.help) return { command: "doctor", help: true };
  const server = required("doctor", values.server, "--server", "myserver.database.windows.net");
  const host = serverHost(server);
  if (host === "" || /\s/.test(host)) {
    throw badValue("doctor", "--server", server, "a host name, e.g. myserver.database.windows.net");
  }
  const database = required("doctor", values.database, "--database", "app");
  const port = integerIn("doctor", "--port", values.port, 1, 65535, 1433);
  const tokenMode = values["token-mode"] ?? "inline";
  if (tokenMode !== "inline" && tokenMode !== "token-credential") {
    throw badValue("doctor", "--token-mode", tokenMode, "inline or token-credential");
  }
  const timeoutInSeconds = integerIn(
    "doctor",
    "--timeout",
    values.timeout,
    1,
    600,
    DEFAULT_TIMEOUT_IN_MS / 1000,
  );
  return {
    command: "doctor",
    ...credentialArgs("doctor", values),
    server: host,
    database,
    port,
    tokenMode,
    roles: roleList("doctor", values.roles),
    timeoutInMs: timeoutInSeconds * 1000,
  };
}

function parseToken(argv: readonly string[]): TokenArgs | { command: "token"; help: true } {
  const values = parse("token", argv, TOKEN_OPTIONS);
  if (values.help) return { command: "token", help: true };
  return { command: "token", ...credentialArgs("token", values), raw: values.raw === true };
}

function parseCreateUser(argv: readonly string[]): CreateUserArgs | { command: "create-user"; help: true } {
  const values = parse("create-user", argv, CREATE_USER_OPTIONS);
  if (values.help) return { command: "create-user", help: true };
  const name = required("create-user", values.name, "--name", '"orders-api" or bob@contoso.com');
  const objectId = values["object-id"];
  if (objectId !== undefined && !GUID.test(objectId)) {
    throw badValue("create-user", "--object-id", objectId, "the principal's object id (a GUID)");
  }
  return { command: "create-user", name, roles: roleList("create-user", values.roles), objectId };
}

function credentialArgs(
  command: CommandName,
  values: { credential?: string | undefined; scope?: string | undefined; json?: boolean | undefined },
): CredentialArgs {
  const credential = (values.credential ?? "default").split(",").map((item) => item.trim());
  if (credential.some((item) => item === "")) {
    throw badValue(
      command,
      "--credential",
      values.credential ?? "",
      "a preset name, or a comma-separated list of them",
    );
  }
  return { credential, scope: values.scope, json: values.json === true };
}

function required(command: CommandName, value: string | undefined, option: string, example: string): string {
  if (value === undefined) throw missingOption(command, option, example);
  if (value.trim() === "") throw badValue(command, option, value, `a non-empty value, e.g. ${example}`);
  return value.trim();
}

function integerIn(
  command: CommandName,
  option: string,
  value: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < min || number > max) {
    throw badValue(command, option, value, `a whole number from ${min} to ${max}`);
  }
  return number;
}

/** `--roles a,b` -> ["a", "b"]; `--roles ""` or `--roles none` -> []. Default: DEFAULT_ROLES. */
function roleList(command: CommandName, value: string | undefined): string[] {
  if (value === undefined) return [...DEFAULT_ROLES];
  if (value.trim() === "" || value.trim() === "none") return [];
  const roles = value.split(",").map((role) => role.trim());
  const bad = roles.find((role) => role === "" || role.length > 128);
  if (bad !== undefined) {
    throw badValue(command, "--roles", value, "comma-separated role names, e.g. db_datareader,db_datawriter");
  }
  return roles;
}

/** The command named first on the command line; a UsageError for anything else. */
export function commandOf(word: string): CommandName {
  if ((COMMANDS as readonly string[]).includes(word)) return word as CommandName;
  const suggestion = closest(word, COMMANDS);
  throw new UsageError(
    `entra-sql: unknown command ${quoted(word)}.`,
    `${suggestion ? `did you mean ${suggestion}? ` : ""}use one of ${COMMANDS.join(", ")}; see \`entra-sql --help\``,
  );
}
