import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
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

  it('says "name (version unknown)" for a package that is not installed there', () => {
    expect(installedVersion("@entra-sql/no-such-package", __filename)).toBe(
      "@entra-sql/no-such-package (version unknown)",
    );
  });
});
