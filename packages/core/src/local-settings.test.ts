import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type InvalidOptionError, isInvalidOptionError } from "./errors.js";
import { readStandInSettings } from "./local-settings.js";
import { createTokenSource } from "./token-source.js";

// readStandInSettings: the stand-ins' settings file (npm run stand-ins -- --settings-file) in, an
// adapter's tokenSource/scope and the driver's connection settings out. The end-to-end run against
// the real stand-ins is test/readme-snippets (TypeORM and Knex, one login and one query each).

const SECRET = "abc8Q~local-idp-secret-0123456789abcdef";
const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const SQL_CA = "-----BEGIN CERTIFICATE-----\nMIIBsql\n-----END CERTIFICATE-----\n";

/** A file as the CLI writes it (test/support/stand-ins-cli.ts StandInsSettingsFile). */
const fileContent = () => ({
  entra: {
    authorityHost: "https://127.0.0.1:41234",
    tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    clientId: "0f0c7a3e-1b7e-4c5e-9d3a-1c2b3d4e5f60",
    clientSecret: SECRET,
    caFile: "/tmp/x/ca.pem",
    identityEndpoint: "http://127.0.0.1:40111/msi/token",
    identityHeader: "header-value",
    imdsHost: "http://127.0.0.1:40111",
    cliBinDir: "/tmp/x/bin",
    userPrincipalName: "demo.user@entra-sql.test",
    managedIdentityClientId: "1f0c7a3e-1b7e-4c5e-9d3a-1c2b3d4e5f61",
    caPem: CA,
  },
  sql: {
    host: "127.0.0.1",
    port: 41235,
    database: "entra_sql_demo",
    caFile: "/tmp/x/ca.pem",
    caPem: SQL_CA,
    serverName: "localhost",
    scope: "https://database.windows.net/.default",
  },
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "core-local-settings-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

function thrown(path: unknown): InvalidOptionError {
  try {
    readStandInSettings(path as string);
  } catch (error) {
    if (!isInvalidOptionError(error)) throw error;
    return error;
  }
  throw new Error("expected readStandInSettings to throw");
}

/** Everything a person could see of an error: message, stack, util.inspect, JSON. */
const shown = (error: Error) =>
  [error.message, error.stack, inspect(error, { depth: 9, showHidden: true }), JSON.stringify(error)].join(
    "\n",
  );

describe("readStandInSettings", () => {
  it("turns the file into the adapter's tokenSource and scope and the driver's connection settings", () => {
    const local = readStandInSettings(write("ok.json", fileContent()));
    expect({ ...local.tokenSource, credential: { ...local.tokenSource.credential } }).toEqual({
      credential: {
        type: "service-principal",
        tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
        clientId: "0f0c7a3e-1b7e-4c5e-9d3a-1c2b3d4e5f60",
        clientSecret: SECRET,
      },
      identityOptions: {
        authorityHost: "https://127.0.0.1:41234",
        disableInstanceDiscovery: true,
        tlsOptions: { ca: CA },
      },
      scope: "https://database.windows.net/.default",
    });
    expect(local.scope).toBe("https://database.windows.net/.default");
    expect(local.sql).toEqual({
      server: "127.0.0.1",
      port: 41235,
      database: "entra_sql_demo",
      options: {
        encrypt: true,
        trustServerCertificate: false,
        serverName: "localhost",
        cryptoCredentialsDetails: { ca: SQL_CA },
      },
    });
  });

  it("gives options createTokenSource accepts as they are (validated, no request made)", () => {
    const local = readStandInSettings(write("valid.json", fileContent()));
    const source = createTokenSource(local.tokenSource);
    expect(source.defaultScope).toBe("https://database.windows.net/.default");
    source.close();
  });

  it("never shows the client secret in util.inspect, JSON.stringify or String of the result", () => {
    const local = readStandInSettings(write("inspect.json", fileContent()));
    const views = [inspect(local, { depth: 9 }), JSON.stringify(local), String(local.tokenSource.credential)];
    for (const view of views) expect(view).not.toContain(SECRET);
    expect(inspect(local, { depth: 9 })).toContain("clientSecret: '[redacted]'");
    // Still an ordinary preset: spreading or reading it gives the secret to the credential.
    expect({ ...local.tokenSource.credential }.clientSecret).toBe(SECRET);
  });

  it("reads a relative path from the current working directory", () => {
    write("relative.json", fileContent());
    const cwd = vi.spyOn(process, "cwd").mockReturnValue(dir);
    try {
      expect(readStandInSettings("relative.json").sql.port).toBe(41235);
    } finally {
      cwd.mockRestore();
    }
  });

  it("defaults serverName to localhost and the scope to Azure SQL's when an older file lacks them", () => {
    const content = fileContent();
    const { serverName: _name, scope: _scope, ...sql } = content.sql;
    const local = readStandInSettings(write("older.json", { ...content, sql }));
    expect(local.sql.options.serverName).toBe("localhost");
    expect(local.scope).toBe("https://database.windows.net/.default");
  });

  it("a missing file: names the path and says how to create it", () => {
    const path = join(dir, "absent.json");
    const error = thrown(path);
    expect(error.message).toBe(
      `@entra-sql/core: option "readStandInSettings(path)" is ${JSON.stringify(path)} (no such file); ` +
        "expected the stand-ins' settings file: start the stand-ins with `npm run stand-ins -- --settings-file <this path>` " +
        "in a clone of the entra-sql repository and keep them running (they remove the file when they stop).",
    );
  });

  it("a file that is not JSON: names it, and neither the message nor a cause quotes its text", () => {
    const path = write("broken.json", `{"entra":{"clientSecret":"${SECRET}"`);
    const error = thrown(path);
    expect(error.message).toContain(`${JSON.stringify(path)} (not valid JSON)`);
    expect(error.message).toContain("npm run stand-ins -- --settings-file");
    expect(error.cause).toBeUndefined();
    expect(shown(error)).not.toContain(SECRET);
  });

  it("a missing field: names the field and the file", () => {
    const content = fileContent();
    const { caPem: _ca, ...entra } = content.entra;
    const path = write("no-ca.json", { ...content, entra });
    const error = thrown(path);
    expect(error.option).toBe(`entra.caPem in ${path}`);
    expect(error.message).toMatch(
      new RegExp(
        `^@entra-sql/core: option "entra\\.caPem in ${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}" is missing; expected a PEM certificate; this file is not \\(or no longer\\) what the stand-ins write: start the stand-ins with`,
      ),
    );
  });

  it("a bad value: shows it, except the secret, which is never printed", () => {
    const content = fileContent();
    const badPort = thrown(write("port.json", { ...content, sql: { ...content.sql, port: "1433x" } }));
    expect(badPort.message).toContain('option "sql.port in ');
    expect(badPort.message).toContain('is "1433x"; expected a port number 1-65535');

    const badSecret = thrown(
      write("secret.json", { ...content, entra: { ...content.entra, clientSecret: [SECRET] } }),
    );
    expect(badSecret.message).toContain("is [redacted] (not the demo app's client secret)");
    expect(shown(badSecret)).not.toContain(SECRET);

    const httpAuthority = thrown(
      write("http.json", { ...content, entra: { ...content.entra, authorityHost: "http://127.0.0.1:1" } }),
    );
    expect(httpAuthority.message).toContain('is "http://127.0.0.1:1"; expected an https URL');
  });

  it("a JSON file of another shape, and a path that is not a string", () => {
    expect(thrown(write("array.json", "[1,2]")).message).toContain('option "entra.authorityHost in ');
    expect(thrown(undefined).message).toBe(
      '@entra-sql/core: option "readStandInSettings(path)" is undefined; expected the path of the ' +
        "stand-ins' settings file; start the stand-ins with `npm run stand-ins -- --settings-file <this path>` " +
        "in a clone of the entra-sql repository and keep them running (they remove the file when they stop).",
    );
  });
});
