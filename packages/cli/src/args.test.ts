import { describe, expect, it } from "vitest";
import { DEFAULT_ROLES, parseCommandArgs } from "./args.js";
import { isUsageError, type UsageError } from "./usage-error.js";

// The command lines: defaults, values checked one by one, and errors that name the option, the value
// and the fix.

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (isUsageError(error)) return error;
    throw error;
  }
  throw new Error("no usage error");
}

const doctor = (...argv: string[]) =>
  parseCommandArgs("doctor", ["--server", "s.database.windows.net", "--database", "app", ...argv]);

describe("doctor arguments", () => {
  it("applies the defaults", () => {
    expect(doctor()).toEqual({
      command: "doctor",
      server: "s.database.windows.net",
      database: "app",
      port: 1433,
      tokenMode: "inline",
      credential: ["default"],
      scope: undefined,
      json: false,
      roles: DEFAULT_ROLES,
      timeoutInMs: 15_000,
    });
  });

  it("reads every option; --server as drivers accept it; --credential as a chain; --roles none", () => {
    const parsed = parseCommandArgs("doctor", [
      "--server",
      "tcp:MyServer.database.windows.net,1433",
      "--database",
      "app",
      "--port",
      "3342",
      "--credential",
      "managed-identity, cli",
      "--token-mode",
      "token-credential",
      "--scope",
      "https://database.usgovcloudapi.net/.default",
      "--roles",
      "none",
      "--timeout",
      "5",
      "--json",
    ]);
    expect(parsed).toMatchObject({
      server: "myserver.database.windows.net",
      port: 3342,
      credential: ["managed-identity", "cli"],
      tokenMode: "token-credential",
      scope: "https://database.usgovcloudapi.net/.default",
      roles: [],
      timeoutInMs: 5000,
      json: true,
    });
  });

  it.each([
    [["--port", "70000"], "--port", '"70000"', "a whole number from 1 to 65535"],
    [["--port", "14x"], "--port", '"14x"', "a whole number"],
    [["--token-mode", "later"], "--token-mode", '"later"', "inline or token-credential"],
    [["--timeout", "0"], "--timeout", '"0"', "a whole number from 1 to 600"],
    [["--credential", "cli,"], "--credential", '"cli,"', "comma-separated"],
    [["--roles", "db_datareader,,x"], "--roles", '"db_datareader,,x"', "comma-separated role names"],
  ])("%j: names %s, the value and what it expects", (argv, option, value, expected) => {
    const error = usageError(() => doctor(...argv));
    expect(error.option).toBe(option);
    expect(error.message).toContain(`option ${option} is ${value}; expected`);
    expect(error.message).toContain(expected);
    expect(error.fix).toContain("entra-sql doctor --help");
  });

  it("requires --server and --database", () => {
    expect(usageError(() => parseCommandArgs("doctor", ["--database", "app"])).message).toBe(
      "entra-sql doctor: option --server is required.",
    );
    const missing = usageError(() => parseCommandArgs("doctor", ["--server", "x"]));
    expect(missing.option).toBe("--database");
    expect(missing.fix).toContain("add --database");
  });

  it("an unknown option: its name and the closest known one", () => {
    const error = usageError(() => doctor("--databse", "x"));
    expect(error.message).toBe('entra-sql doctor: unknown option "--databse".');
    expect(error.fix).toMatch(/^did you mean --database\?/);
    const far = usageError(() => doctor("--zzzzzzzz"));
    expect(far.fix).toContain("options: --credential, --scope");
  });

  it("a missing value, a value given to a flag, a stray argument", () => {
    expect(usageError(() => doctor("--port")).message).toBe("entra-sql doctor: option --port needs a value.");
    expect(usageError(() => doctor("--json=yes")).message).toBe(
      "entra-sql doctor: option --json takes no value.",
    );
    expect(usageError(() => doctor("extra")).message).toBe('entra-sql doctor: unexpected argument "extra".');
  });

  it("--help wins over everything else but unknown options", () => {
    expect(parseCommandArgs("doctor", ["--help"])).toEqual({ command: "doctor", help: true });
    expect(parseCommandArgs("token", ["-h"])).toEqual({ command: "token", help: true });
  });
});

describe("token and create-user arguments", () => {
  it("token: credential, scope, raw", () => {
    expect(parseCommandArgs("token", ["--raw", "--scope", "https://database.windows.net/.default"])).toEqual({
      command: "token",
      credential: ["default"],
      scope: "https://database.windows.net/.default",
      json: false,
      raw: true,
    });
    expect(usageError(() => parseCommandArgs("token", ["--server", "x"])).option).toBe("--server");
  });

  it("create-user: name, roles, object id (a GUID)", () => {
    expect(parseCommandArgs("create-user", ["--name", "orders-api"])).toEqual({
      command: "create-user",
      name: "orders-api",
      roles: DEFAULT_ROLES,
      objectId: undefined,
    });
    const error = usageError(() => parseCommandArgs("create-user", ["--name", "x", "--object-id", "nope"]));
    expect(error.message).toContain(
      'option --object-id is "nope"; expected the principal\'s object id (a GUID)',
    );
    expect(usageError(() => parseCommandArgs("create-user", ["--name", " "])).option).toBe("--name");
  });

  it("shows a value safely: control characters replaced, long values cut, tokens hidden", () => {
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"aud":"x"}').toString("base64url")}.c2lnbmF0dXJl`;
    const error = usageError(() => doctor("--token-mode", `a\u001b[31m${"x".repeat(200)}`));
    expect(error.message).not.toContain("\u001b");
    expect(error.message.length).toBeLessThan(300);
    expect(usageError(() => doctor("--token-mode", jwt)).message).not.toContain(jwt);
  });
});
