import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isInvalidOptionError } from "@entra-sql/core";
import { describe, expect, it } from "vitest";
import { installedVersion, requireMethods } from "./driver-internals.js";

const about = {
  packageName: "@entra-sql/some-adapter",
  option: "mssql",
  driver: "mssql 12.7.1",
  supported: "mssql 11 or 12",
};

/** What `run` throws. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("requireMethods", () => {
  it("passes when every method is there, also inherited or on a class", () => {
    class Pool {
      _poolCreate() {}
      _poolValidate() {}
    }
    expect(() => requireMethods(new Pool(), ["_poolCreate", "_poolValidate"], about)).not.toThrow();
    expect(() => requireMethods(Pool.prototype, ["_poolCreate"], about)).not.toThrow();
    const withStatic = Object.assign(() => {}, { create() {} });
    expect(() => requireMethods(withStatic, ["create"], about)).not.toThrow();
    expect(() => requireMethods({}, [], about)).not.toThrow();
  });

  it("names the package, the option, the driver and every missing method", () => {
    const error = thrown(() =>
      requireMethods(
        { _poolCreate() {}, _poolValidate: "not a function" },
        ["_poolCreate", "_poolValidate", "_poolDestroy"],
        about,
      ),
    );
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error).toMatchObject({
      option: "mssql",
      value: "mssql 12.7.1, which lacks _poolValidate, _poolDestroy",
    });
    const message = (error as Error).message;
    expect(message).toMatch(
      /^@entra-sql\/some-adapter: option "mssql" is mssql 12\.7\.1, which lacks _poolValidate, _poolDestroy; expected mssql 11 or 12: /,
    );
    expect(message).toContain("report the version");
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["a string", "mssql"],
  ])("treats %s as lacking everything", (_, target) => {
    expect(thrown(() => requireMethods(target, ["acquire", "release"], about))).toMatchObject({
      value: "mssql 12.7.1, which lacks acquire, release",
    });
  });
});

describe("installedVersion", () => {
  it('says "name x.y.z" for a package installed where the adapter resolves it', () => {
    const manifest = createRequire(__filename).resolve("@azure/core-auth/package.json");
    const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(installedVersion("@azure/core-auth", __filename)).toBe(`@azure/core-auth ${version}`);
  });

  it("finds the version of a package whose exports map hides its package.json (as @prisma/adapter-mssql's)", () => {
    const app = mkdtempSync(join(tmpdir(), "entra-sql-installed-"));
    try {
      const pkg = join(app, "node_modules", "hidden-manifest");
      mkdirSync(join(pkg, "dist"), { recursive: true });
      const manifest = { name: "hidden-manifest", version: "3.4.5", exports: { ".": "./dist/index.js" } };
      writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest));
      writeFileSync(join(pkg, "dist", "index.js"), "module.exports = {};");
      expect(installedVersion("hidden-manifest", join(app, "app.js"))).toBe("hidden-manifest 3.4.5");
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('says "name (version unknown)" for a package that is not installed there', () => {
    expect(installedVersion("@entra-sql/no-such-package", __filename)).toBe(
      "@entra-sql/no-such-package (version unknown)",
    );
  });
});
